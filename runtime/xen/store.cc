#include "runtime/xen/store.h"

#include <errno.h>

#include "runtime/xen/hypercall.h"
#include "skiff/evtchn.h"

namespace skiff::xen {
namespace {

XenstoreClient* client;
EventChannel* channel;
const char* missing = "xenstore: not started";

}  // namespace

void StartXenstore(bool dom0) {
  uint64_t pfn, port;
  if (dom0) {
    missing = "xenstore: none here (a PVH dom0 has no xenstore ring)";
    return;
  }
  if (!GetHvmParam(HVM_PARAM_STORE_PFN, &pfn) || !GetHvmParam(HVM_PARAM_STORE_EVTCHN, &port) ||
      pfn == 0) {
    missing = "xenstore: none here (Xen gave this domain no xenstore ring)";
    return;
  }
  Result<EventChannel> adopted = EventChannel::Adopt(static_cast<uint32_t>(port));
  if (!adopted) {
    missing = "xenstore: its event channel could not be set up";
    return;
  }
  channel = new EventChannel(std::move(*adopted));
  auto* ring = reinterpret_cast<xenstore_domain_interface*>(pfn << 12);   // in the direct map
  evtchn_port_t notify_port = channel->port();
  client = new XenstoreClient({ring, [notify_port] { Notify(notify_port); }});
  channel->SetHandler([] { client->OnEvent(); });
}

Result<XenstoreClient*> Xenstore() {
  if (client == nullptr) return MakeError(ENODEV, "%s", missing);
  return client;
}

}  // namespace skiff::xen
