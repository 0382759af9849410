// The guest's disks: blkfront on Xen's driver machine, a XenbusBus on device/vbd, and the
// calls of skiff/block.h that find disks.
#include "drivers/blkfront/disks.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "drivers/blkfront/blkfront.h"
#include "runtime/libc/posix.h"
#include "runtime/xen/console.h"
#include "runtime/xen/grants.h"
#include "runtime/xen/xenbus.h"
#include "runtime/xen/xenstore.h"

namespace skiff::blk {

int OpenBlockFile(Disk& disk, int flags, posix::File** out);   // block_file.cc

namespace {

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
  if (!store || xen::Grants() == nullptr) return;   // a PVH dom0, or no grant table
  registry = new Registry(xen::XenDriverMachine(), **store);
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
    Result<xen::XenbusFrontend*> up = bus->WaitConnected(device.id, deadline);
    if (!up && up.error().code == ETIMEDOUT) {   // a failed one has said why
      xen::ConsolePrint("skiff: disks: %s did not connect in %llu s; main starts without it\n",
                        device.node.c_str(),
                        static_cast<unsigned long long>(kBootWait / 1'000'000'000));
    }
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
