// A machine for the host tests of frontend drivers: pages, grants and event channels on plain
// memory, checked as Xen would check them.
#ifndef SKIFF_TESTS_UNIT_FAKE_MACHINE_H_
#define SKIFF_TESTS_UNIT_FAKE_MACHINE_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "runtime/xen/driver_machine.h"
#include "runtime/xen/grant_table.h"
#include "runtime/xen/ring.h"
#include "tests/unit/fake_platform.h"

namespace skiff {

// Pages, grants and event channels on plain memory. Pages get made-up frame numbers; a page
// freed while a grant still reaches it is a test failure.
class FakeMachine final : public xen::DriverMachine {
 public:
  // |backend| is the domain the backend's grants must name.
  FakeMachine(FakePlatform& platform, DomId backend) : platform_(platform), backend_(backend) {}
  ~FakeMachine() override {
    for (auto& [block, pages] : block_pages_) free(block);
  }

  Result<void*> AllocPages(size_t count) override {
    if (fail_allocations > 0) {
      fail_allocations--;
      return MakeError(ENOMEM, "fake: no memory");
    }
    char* block = static_cast<char*>(aligned_alloc(xen::kRingPageSize, count * xen::kRingPageSize));
    memset(block, 0, count * xen::kRingPageSize);
    for (size_t i = 0; i < count; i++) {
      char* page = block + i * xen::kRingPageSize;
      gfns_[page] = next_gfn_;
      frames_[next_gfn_++] = page;
      owners_[page] = block;
      block_pages_[block]++;
    }
    pages_in_use += count;
    return static_cast<void*>(block);
  }

  void FreePage(void* page) override {
    ASSERT_TRUE(owners_.contains(page)) << "a page freed twice or never allocated";
    for (uint32_t ref = 0; ref < kEntries; ref++) {
      if (grants_.state(GrantRef{ref}) == xen::GrantTable::EntryState::kGranted) {
        ASSERT_NE(entries_[ref].frame, gfns_[page]) << "a page freed while granted";
      }
    }
    char* block = owners_[page];
    frames_.erase(gfns_[page]);
    gfns_.erase(page);
    owners_.erase(page);
    pages_in_use--;
    if (--block_pages_[block] == 0) {
      block_pages_.erase(block);
      free(block);
    }
  }

  Gfn GfnOf(void* page) override { return Gfn{gfns_.at(page)}; }
  xen::GrantTable& grants() override { return grants_; }
  void EndGrant(GrantRef ref, void* page) override {
    Result<void> ended = grants_.End(ref);
    ASSERT_TRUE(ended.ok()) << ended.error().message;   // the fake backend maps nothing
    if (page != nullptr) FreePage(page);
  }
  Result<EvtchnPort> OpenChannel(DomId, std::function<void()> handler) override {
    EvtchnPort port{next_port_++};
    platform_.ports.SetHandler(port, std::move(handler));
    open_ports++;
    return port;
  }
  void CloseChannel(EvtchnPort port) override {
    platform_.ports.ClearHandler(port);
    open_ports--;
  }
  void Notify(EvtchnPort) override {
    if (kick) kick();
  }
  void Report(const char* message) override { reports += message; }
  uint64_t RamBytes() override { return ram; }

  // The page behind a grant the backend was given, checked as Xen would: granted to it, and
  // writable if it is to be written.
  char* Map(uint32_t ref, bool write) {
    EXPECT_LT(ref, kEntries);
    if (ref >= kEntries) return nullptr;
    const grant_entry_v1_t& entry = entries_[ref];
    EXPECT_TRUE(entry.flags & GTF_permit_access) << "grant " << ref << " is not granted";
    EXPECT_EQ(entry.domid, backend_.value);
    if (write) {
      EXPECT_FALSE(entry.flags & GTF_readonly) << "grant " << ref << " is read-only";
    }
    auto it = frames_.find(entry.frame);
    EXPECT_NE(it, frames_.end()) << "grant " << ref << " names no page";
    return it == frames_.end() ? nullptr : it->second;
  }

  // References in use, beyond the ones Xen reserves (GNTTAB_NR_RESERVED_ENTRIES).
  size_t granted() const {
    size_t n = 0;
    for (uint32_t ref = GNTTAB_NR_RESERVED_ENTRIES; ref < kEntries; ref++) {
      if (grants_.state(GrantRef{ref}) != xen::GrantTable::EntryState::kFree) n++;
    }
    return n;
  }

  std::function<void()> kick;
  std::string reports;
  size_t pages_in_use = 0;
  int open_ports = 0;
  int fail_allocations = 0;
  uint64_t ram = 256ull << 20;

 private:
  static constexpr uint32_t kEntries = xen::GrantTable::kEntriesPerFrame * 4;
  FakePlatform& platform_;
  DomId backend_;
  std::unique_ptr<grant_entry_v1_t[]> entries_{new grant_entry_v1_t[kEntries]()};
  xen::GrantTable grants_{[](void* self, uint32_t index) {
                            auto* m = static_cast<FakeMachine*>(self);
                            return index < 4 ? &m->entries_[index * xen::GrantTable::kEntriesPerFrame]
                                             : nullptr;
                          },
                          this, 4};
  std::map<void*, uint64_t> gfns_;
  std::map<uint64_t, char*> frames_;
  std::map<void*, char*> owners_;
  std::map<char*, size_t> block_pages_;
  uint64_t next_gfn_ = 0x1000;
  uint32_t next_port_ = 20;
};

}  // namespace skiff

#endif  // SKIFF_TESTS_UNIT_FAKE_MACHINE_H_
