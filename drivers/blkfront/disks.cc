// The guest's disks: blkfront on Xen's pages, grants and event channels, a XenbusBus on
// device/vbd, and the calls of skiff/block.h that find disks.
#include "drivers/blkfront/disks.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "drivers/blkfront/blkfront.h"
#include "runtime/libc/posix.h"
#include "runtime/mm/memory.h"
#include "runtime/xen/console.h"
#include "runtime/xen/grant_table.h"
#include "runtime/xen/grants.h"
#include "runtime/xen/xenbus.h"
#include "runtime/xen/xenstore.h"
#include "skiff/evtchn.h"

namespace skiff::blk {

int OpenBlockFile(Disk& disk, int flags, posix::File** out);   // block_file.cc

namespace {

class XenMachine final : public Machine {
 public:
  Result<void*> AllocPages(size_t count) override {
    std::optional<uint64_t> frame = mm::Pages().Allocate(count);
    if (!frame) return MakeError(ENOMEM, "blkfront: out of memory for %zu pages", count);
    void* pages = reinterpret_cast<void*>(*frame << mm::kPageShift);
    memset(pages, 0, count * mm::kPageSize);
    return pages;
  }
  void FreePage(void* page) override {
    mm::Pages().Free(reinterpret_cast<uint64_t>(page) >> mm::kPageShift, 1);
  }
  Gfn GfnOf(void* page) override { return Gfn{reinterpret_cast<uint64_t>(page) >> mm::kPageShift}; }
  xen::GrantTable& grants() override { return *xen::Grants(); }
  void EndGrant(GrantRef ref, void* page) override { xen::EndGrantAndFree(ref, page); }
  Result<EvtchnPort> OpenChannel(DomId remote, std::function<void()> handler) override {
    EventChannel channel = TRY(EventChannel::AllocUnbound(remote));
    channel.SetHandler(std::move(handler));
    EvtchnPort port = channel.port();
    channels_[port.value] = std::make_unique<EventChannel>(std::move(channel));
    return port;
  }
  void CloseChannel(EvtchnPort port) override { channels_.erase(port.value); }
  void Notify(EvtchnPort port) override {
    auto it = channels_.find(port.value);
    if (it == channels_.end()) return;
    if (Result<void> sent = it->second->Send(); !sent) {
      xen::ConsolePrint("blkfront: %s\n", sent.error().message.c_str());
    }
  }
  void Report(const char* message) override { xen::ConsolePrint("%s", message); }
  uint64_t RamBytes() override { return mm::TotalRam(); }

 private:
  std::map<uint32_t, std::unique_ptr<EventChannel>> channels_;
};

constexpr uint64_t kBackendTimeout = 60'000'000'000;
constexpr uint64_t kBootWait = 30'000'000'000;   // for the disks there at boot

Registry* registry;
xen::XenbusBus* bus;
constexpr int kMajor = 202;   // Linux's xvd

int OpenByRdev(int flags, dev_t rdev, posix::File** out) {
  size_t ordinal = (rdev & 0xff) / 16;
  if (registry == nullptr || ordinal >= registry->devices().size()) return -ENXIO;
  return OpenBlockFile(*registry->devices()[ordinal], flags, out);
}

}  // namespace

void InitDisks() {
  Result<xen::XenstoreClient*> store = xen::Xenstore();
  if (!store || xen::Grants() == nullptr) return;
  static XenMachine machine;
  registry = new Registry(machine, **store);
  registry->on_new_disk = [](Device& disk, size_t ordinal) {
    std::string path = "/dev/" + disk.name();
    posix::Files().AddDevice(path.c_str(), OpenByRdev,
                             posix::Dev(kMajor, static_cast<int>(ordinal * 16) & 0xff),
                             S_IFBLK | 0660);
  };
  Result<std::vector<xen::XenbusDevice>> at_boot = xen::Enumerate(**store, "vbd");
  bus = new xen::XenbusBus(
      **store, "vbd",
      [](const xen::XenbusDevice& device) { return registry->MakeDriver(device); },
      {.error = [](const Error& error) {
        xen::ConsolePrint("skiff: disks: %s\n", error.message.c_str());
      }},
      // A backend's hotplug script may take a while on a busy host (Linux waits forever).
      {.timeout_ns = kBackendTimeout, .failed = [](const xen::XenbusDevice&, const Error& error) {
        xen::ConsolePrint("skiff: disks: %s\n", error.message.c_str());
      }});
  if (Result<void> started = bus->Start(); !started) {
    xen::ConsolePrint("skiff: disks: %s\n", started.error().message.c_str());
    return;
  }
  if (!at_boot) {
    xen::ConsolePrint("skiff: disks: %s\n", at_boot.error().message.c_str());
    return;
  }
  // The disks there at boot are there for main, as Linux's are for init.
  uint64_t deadline = Now() + kBootWait;
  for (const xen::XenbusDevice& device : *at_boot) {
    xen::XenbusFrontend* frontend = nullptr;
    while ((frontend = bus->Find(device.id)) == nullptr && Now() < deadline) SleepFor(1'000'000);
    if (frontend == nullptr) continue;   // the bus said why
    Result<void> up = frontend->WaitFor(xen::XenbusState::kConnected, deadline);
    if (!up && up.error().code == ETIMEDOUT && frontend->error() == nullptr) {
      xen::ConsolePrint("skiff: disks: %s did not connect in %llu s; main starts without it\n",
                        device.node.c_str(),
                        static_cast<unsigned long long>(kBootWait / 1'000'000'000));
    }   // a failed frontend has said why
  }
}

}  // namespace skiff::blk

extern "C" void skiff_init_disks() { skiff::blk::InitDisks(); }

namespace skiff {

std::vector<BlockInfo> ListDisks() {
  std::vector<BlockInfo> disks;
  if (blk::registry == nullptr) return disks;
  for (const auto& device : blk::registry->devices()) disks.push_back(device->info());
  return disks;
}

Result<Disk*> OpenDisk(std::string_view name) {
  blk::Device* device = blk::registry != nullptr ? blk::registry->Find(name) : nullptr;
  if (device != nullptr) return device;
  std::string names;
  for (const BlockInfo& info : ListDisks()) names += (names.empty() ? "" : ", ") + info.name;
  return MakeError(ENODEV, "no disk %.*s (the guest has %s)", static_cast<int>(name.size()),
                   name.data(), names.empty() ? "none" : names.c_str());
}

Result<Disk*> WaitForDisk(std::string_view name, uint64_t deadline) {
  while (true) {
    blk::Device* device = blk::registry != nullptr ? blk::registry->Find(name) : nullptr;
    if (device != nullptr && device->connected()) return device;
    if (Now() >= deadline) {
      return MakeError(ETIMEDOUT, "disk %.*s did not connect in time",
                       static_cast<int>(name.size()), name.data());
    }
    if (device != nullptr) {
      device->connections().WaitUntil(deadline);
    } else {
      SleepUntil(std::min(deadline, Now() + 10'000'000));
    }
  }
}

}  // namespace skiff
