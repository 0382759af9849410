// The guest's xenstore client, on the ring and event channel Xen set up for the domain.
#include <errno.h>

#include "runtime/xen/hypercall.h"
#include "runtime/xen/xenstore.h"
#include "skiff/evtchn.h"

namespace skiff::xen {
namespace {

XenstoreClient* client;
EventChannel* channel;
const char* missing = "xenstore: not started";

}  // namespace

void StartXenstore(const StartInfo& info) {
  if (info.dom0) {
    missing = "xenstore: none here (a PVH dom0 has no xenstore ring)";
    return;
  }
  if (!info.store.present()) {
    missing = "xenstore: none here (Xen gave this domain no xenstore ring)";
    return;
  }
  Result<EventChannel> adopted = EventChannel::Adopt(info.store.port);
  if (!adopted) {
    missing = "xenstore: its event channel could not be set up";
    return;
  }
  channel = new EventChannel(std::move(*adopted));
  EvtchnPort port = channel->port();
  client = new XenstoreClient(
      {static_cast<xenstore_domain_interface*>(info.store.address()), [port] { Notify(port); }});
  channel->SetHandler([] { client->OnEvent(); });
}

Result<XenstoreClient*> Xenstore() {
  if (client == nullptr) return MakeError(ENODEV, "%s", missing);
  return client;
}

}  // namespace skiff::xen
