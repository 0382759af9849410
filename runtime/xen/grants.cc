// The grant table on Xen: frames mapped at guest-physical addresses above all of the memory
// map (so no RAM is given up), grown on demand up to what GNTTABOP_query_size allows.
#include <errno.h>
#include <string.h>

#include <algorithm>
#include <new>
#include <vector>

#include "runtime/arch/x86/cpu.h"
#include "runtime/arch/x86/paging.h"
#include "runtime/mm/memory.h"
#include "runtime/sched/scheduler.h"
#include "runtime/xen/console.h"
#include "runtime/xen/grant_table.h"
#include "runtime/xen/grants.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/start_info.h"
#include "runtime/xen/xen_error.h"
#include "skiff/grant.h"

namespace skiff::xen {
namespace {

constexpr uint64_t k1G = uint64_t{1} << 30;

GrantTable* table;
uint64_t frames_base;   // guest-physical address of frame 0
uint32_t max_frames;

struct Pending {
  GrantRef ref;
  void* page;   // the runtime's page to free once ended, or null for the caller's frame
};
std::vector<Pending>* still_mapped;   // grants ended while mapped, and their pages

const char* StatusName(int16_t status) {
  static const char* const kNames[] = GNTTABOP_error_msgs;
  int index = -status;
  return index >= 0 && index < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))
             ? kNames[index]
             : "unknown status";
}

grant_entry_v1_t* MapFrame(void*, uint32_t index) {
  uint64_t pa = frames_base + uint64_t{index} * mm::kPageSize;
  xen_add_to_physmap_t add = {};
  add.domid = DOMID_SELF;
  add.space = XENMAPSPACE_grant_table;
  add.idx = index;
  add.gpfn = pa >> mm::kPageShift;
  long rc = MemoryOp(XENMEM_add_to_physmap, &add);
  if (rc != 0) {
    ConsolePrint("skiff: grant: Xen refused to map grant table frame %u: %s\n", index,
                 ErrorName(rc));
    return nullptr;
  }
  if (!x86::MapPage(pa, pa)) return nullptr;
  return reinterpret_cast<grant_entry_v1_t*>(pa);
}

void FreePage(void* page) {
  if (page != nullptr) mm::Pages().Free(reinterpret_cast<uint64_t>(page) >> mm::kPageShift, 1);
}

// Tries again to end the grants that were still mapped; frees the pages of those that end.
void RetryStillMapped() {
  if (still_mapped == nullptr) return;
  auto ended = [](const Pending& p) {
    if (!table->End(p.ref)) return false;
    FreePage(p.page);
    return true;
  };
  still_mapped->erase(std::remove_if(still_mapped->begin(), still_mapped->end(), ended),
                      still_mapped->end());
}

// Ends |ref|'s grant, or, while the other domain maps it, keeps trying later; |page| (the
// runtime's) is freed once it ends.
void EndOrDefer(GrantRef ref, void* page) {
  Result<void> ended = table->End(ref);
  if (ended) return FreePage(page);
  if (ended.error().code != EBUSY) sched::Fatal(ended.error().message.c_str());
  if (still_mapped == nullptr) still_mapped = new std::vector<Pending>;
  still_mapped->push_back({ref, page});
}

Result<void> NeedTable() {
  if (table == nullptr) return MakeError(ENODEV, "grant: this guest has no grant table");
  RetryStillMapped();
  return {};
}

}  // namespace

void InitGrants(const StartInfo& info) {
  gnttab_query_size_t query = {};
  query.dom = DOMID_SELF;
  long rc = Hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size,
                      reinterpret_cast<uint64_t>(&query), 1);
  if (rc != 0 || query.status != GNTST_okay) {
    ConsolePrint("skiff: grant: GNTTABOP_query_size failed (%s, %s); no grants\n",
                 ErrorName(rc), StatusName(query.status));
    return;
  }
  // Above RAM and at least at 4 GiB, clear of the PCI hole below 4 GiB; not above every region,
  // which may reach the top of the physical address space (QEMU reserves up to 1 TiB).
  uint64_t top = 4 * k1G;
  for (size_t i = 0; i < info.region_count; i++) {
    if (info.regions[i].type == XEN_HVM_MEMMAP_TYPE_RAM) top = std::max(top, info.regions[i].end());
  }
  frames_base = (top + k1G - 1) & ~(k1G - 1);
  max_frames = query.max_nr_frames;
  unsigned physical_bits = x86::Cpuid(0x80000008).eax & 0xff;
  if (frames_base + uint64_t{max_frames} * mm::kPageSize > uint64_t{1} << physical_bits) {
    ConsolePrint("skiff: grant: no room for the grant table above RAM in %u-bit physical "
                 "addresses; no grants\n", physical_bits);
    return;
  }
  table = new GrantTable(MapFrame, nullptr, max_frames);
}

GrantTable* Grants() {
  if (table != nullptr) RetryStillMapped();
  return table;
}

void EndGrantAndFree(GrantRef ref, void* page) { EndOrDefer(ref, page); }

}  // namespace skiff::xen

namespace skiff {

using xen::table;

Result<GrantedPage> GrantedPage::Offer(DomId domid, bool readonly) {
  TRY(xen::NeedTable());
  std::optional<uint64_t> frame = mm::Pages().Allocate(1);
  if (!frame) return MakeError(ENOMEM, "grant: out of memory for a page to grant");
  Result<GrantRef> ref = table->Offer(domid, Gfn{*frame}, readonly);
  if (!ref) {
    mm::Pages().Free(*frame, 1);
    return ref.error();
  }
  void* page = reinterpret_cast<void*>(*frame << mm::kPageShift);
  memset(page, 0, mm::kPageSize);
  return GrantedPage(*ref, page);
}

GrantedPage::GrantedPage(GrantedPage&& other) noexcept
    : ref_(other.ref_), page_(std::exchange(other.page_, nullptr)) {}

GrantedPage& GrantedPage::operator=(GrantedPage&& other) noexcept {
  if (this != &other) {
    Release();
    ref_ = other.ref_;
    page_ = std::exchange(other.page_, nullptr);
  }
  return *this;
}

GrantedPage::~GrantedPage() { Release(); }

void GrantedPage::Release() {
  if (page_ == nullptr) return;
  xen::EndOrDefer(ref_, page_);
  page_ = nullptr;
}

Result<Gfn> GfnOf(const void* address) {
  uint64_t pa = x86::Translate(reinterpret_cast<uint64_t>(address));
  if (pa == 0) return MakeError(EFAULT, "grant: nothing is mapped at %p", address);
  return Gfn{pa >> mm::kPageShift};
}

Result<Grant> Grant::Offer(DomId domid, const void* address, bool readonly) {
  TRY(xen::NeedTable());
  Gfn gfn = TRY(GfnOf(address));
  GrantRef ref = TRY(table->Offer(domid, gfn, readonly));
  return Grant(ref, gfn);
}

Grant::Grant(Grant&& other) noexcept
    : ref_(other.ref_), gfn_(other.gfn_), valid_(std::exchange(other.valid_, false)) {}

Grant& Grant::operator=(Grant&& other) noexcept {
  if (this != &other) {
    End();
    ref_ = other.ref_;
    gfn_ = other.gfn_;
    valid_ = std::exchange(other.valid_, false);
  }
  return *this;
}

void Grant::End() {
  if (!valid_) return;
  xen::EndOrDefer(ref_, nullptr);
  valid_ = false;
}

Result<GrantRefs> GrantRefs::Reserve(size_t count) {
  TRY(xen::NeedTable());
  GrantRefs refs;
  refs.refs_.reset(new (std::nothrow) GrantRef[count]);
  if (refs.refs_ == nullptr) {
    return MakeError(ENOMEM, "grant: out of memory for %zu references", count);
  }
  TRY(table->Reserve({refs.refs_.get(), count}));
  refs.count_ = count;
  return refs;
}

GrantRefs& GrantRefs::operator=(GrantRefs&& other) noexcept {
  if (this != &other) {
    Clear();
    refs_ = std::move(other.refs_);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

Result<void> GrantRefs::Grant(size_t i, DomId domid, Gfn gfn, bool readonly) {
  if (i >= count_) return MakeError(EINVAL, "grant: reference %zu of %zu", i, count_);
  return table->Grant(refs_[i], domid, gfn, readonly);
}

Result<void> GrantRefs::Revoke(size_t i) {
  if (i >= count_) return MakeError(EINVAL, "grant: reference %zu of %zu", i, count_);
  return table->Revoke(refs_[i]);
}

void GrantRefs::Clear() {
  for (size_t i = 0; i < count_; i++) {
    if (table->state(refs_[i]) == xen::GrantTable::EntryState::kGranted) {
      xen::EndOrDefer(refs_[i], nullptr);
    } else {
      (void)table->Release(refs_[i]);
    }
  }
  refs_.reset();
  count_ = 0;
}

bool WaitForGrant(uint64_t deadline) {
  return table != nullptr && table->space().WaitUntil(deadline);
}

Result<void> CopyGrants(const GrantCopy* copies, size_t count) {
  constexpr size_t kBatch = 32;
  gnttab_copy_t ops[kBatch];
  for (size_t done = 0; done < count; done += kBatch) {
    size_t n = std::min(kBatch, count - done);
    for (size_t i = 0; i < n; i++) {
      const GrantCopy& c = copies[done + i];
      auto local = reinterpret_cast<uint64_t>(c.local);
      uint64_t local_offset = local & (mm::kPageSize - 1);
      if (c.offset + c.length > mm::kPageSize || local_offset + c.length > mm::kPageSize) {
        return MakeError(EINVAL, "grant copy %zu: %u bytes would cross a page boundary",
                         done + i, c.length);
      }
      gnttab_copy_t& op = ops[i];
      op = {};
      gnttab_copy_t::gnttab_copy_ptr& granted = c.to_grant ? op.dest : op.source;
      gnttab_copy_t::gnttab_copy_ptr& mine = c.to_grant ? op.source : op.dest;
      granted.u.ref = c.ref.value;
      granted.domid = c.domid.value;
      granted.offset = c.offset;
      Result<Gfn> gfn = GfnOf(c.local);
      if (!gfn) {
        return MakeError(EFAULT, "grant copy %zu: %s", done + i, gfn.error().message.c_str());
      }
      mine.u.gmfn = gfn->value;
      mine.domid = DOMID_SELF;
      mine.offset = static_cast<uint16_t>(local_offset);
      op.len = c.length;
      op.flags = c.to_grant ? GNTCOPY_dest_gref : GNTCOPY_source_gref;
    }
    long rc = xen::Hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_copy,
                             reinterpret_cast<uint64_t>(ops), n);
    if (rc != 0) {
      return xen::XenError(rc, "grant copy: GNTTABOP_copy failed");
    }
    for (size_t i = 0; i < n; i++) {
      if (ops[i].status != GNTST_okay) {
        return MakeError(EIO, "grant copy %zu (ref %u of domain %u): Xen says %s", done + i,
                         copies[done + i].ref.value, copies[done + i].domid.value,
                         xen::StatusName(ops[i].status));
      }
    }
  }
  return {};
}

uint32_t GrantTableFrames() { return table != nullptr ? table->frames() : 0; }
uint32_t GrantTableMaxFrames() { return xen::max_frames; }

}  // namespace skiff
