// The driver machine on Xen: pages of the allocator, the guest's grant table, event channels.
#include "runtime/xen/driver_machine.h"

#include <errno.h>
#include <string.h>

#include <map>
#include <memory>

#include "runtime/mm/memory.h"
#include "runtime/xen/console.h"
#include "runtime/xen/grants.h"
#include "skiff/evtchn.h"

namespace skiff::xen {
namespace {

class XenMachine final : public DriverMachine {
 public:
  Result<void*> AllocPages(size_t count) override {
    std::optional<uint64_t> frame = mm::Pages().Allocate(count);
    if (!frame) return MakeError(ENOMEM, "out of memory for %zu pages for a driver", count);
    void* pages = reinterpret_cast<void*>(*frame << mm::kPageShift);
    memset(pages, 0, count * mm::kPageSize);
    return pages;
  }
  void FreePage(void* page) override {
    mm::Pages().Free(reinterpret_cast<uint64_t>(page) >> mm::kPageShift, 1);
  }
  Gfn GfnOf(void* page) override { return Gfn{reinterpret_cast<uint64_t>(page) >> mm::kPageShift}; }
  xen::GrantTable& grants() override { return *Grants(); }
  void EndGrant(GrantRef ref, void* page) override { EndGrantAndFree(ref, page); }
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
      ConsolePrint("skiff: event channel %u: %s\n", port.value, sent.error().message.c_str());
    }
  }
  void Report(const char* message) override { ConsolePrint("%s", message); }
  uint64_t RamBytes() override { return mm::TotalRam(); }

 private:
  std::map<uint32_t, std::unique_ptr<EventChannel>> channels_;
};

}  // namespace

DriverMachine& XenDriverMachine() {
  static XenMachine machine;
  return machine;
}

}  // namespace skiff::xen
