// netfront: the Xen virtual network interface frontend. [xen/io/netif.h]
//
// One vif on the kit's rings, grants and xenbus framework, negotiated as Linux's xen-netfront
// does (drivers-notes): request-rx-copy (a backend without feature-rx-copy is an error),
// feature-rx-notify, feature-sg (frames over several slots both ways, never over netback's
// slot limit), one queue, and split event channels when netback offers them. It takes what dom0 and other guests send as
// they make it: checksums left blank (feature-no-csum-offload=0; the receiver is told, and
// the stack trusts them) and GSO TCPv4 packets of up to 64 KiB (feature-gso-tcpv4), so that
// dom0 neither sums nor segments for us. What it sends is the same when netback offers it:
// TCP checksums left blank for netback, and TCP packets of up to 64 KiB with a GSO extra-info
// slot (TSO), which dom0 takes whole or cuts where it must.
//
// Buffers are the driver's own pages, granted once and kept: every RX slot has its page,
// posted again as soon as its frame is copied out, so refilling never waits for the stack;
// every TX slot has its page, which a frame is copied into. Every response is checked (an id
// that is not the slot's, a status out of the protocol, an offset and size past the page, a
// producer index that runs ahead): a bad one breaks the device with a message naming it, and
// the rest of the guest goes on. A backend that goes and comes back gets new rings; frames in
// flight then are dropped and counted, as on Linux.
//
// Portable: it reaches the machine only through xen::DriverMachine, so the host tests run it
// against a fake netback. One context: tasks and the event loop of one vCPU.
#ifndef SKIFF_DRIVERS_NETFRONT_NETFRONT_H_
#define SKIFF_DRIVERS_NETFRONT_NETFRONT_H_

#include <stdint.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "drivers/netfront/netif.h"
#include "net/link.h"
#include "runtime/xen/driver_machine.h"
#include "runtime/xen/ring.h"
#include "runtime/xen/xenbus.h"
#include "skiff/net.h"

namespace skiff::net {

using TxRing = xen::FrontRing<netif_tx_request_t, netif_tx_response_t>;
using RxRing = xen::FrontRing<netif_rx_request_t, netif_rx_response_t>;

// A link (net/link.h): received frames go to the receiver straight from the RX pages, which
// are posted again once it returns; on_link_change runs when the backend connects (again)
// and when it goes.
class Netfront final : public xen::XenbusDriver, public Link {
 public:
  Netfront(xen::DriverMachine& machine, xen::XenstoreClient& store, std::string name);
  ~Netfront() override;

  // Sends one frame (copied; the pieces may go once this returns). EAGAIN when the TX ring is
  // full (a completion makes room: on_tx_space runs), ENETDOWN when no backend is connected,
  // EIO on a broken device, EINVAL for a frame of a bad size or a GSO packet for a backend that
  // takes none.
  Result<void> Send(std::span<const FramePiece> pieces,
                    const SendOptions& options = {}) override;
  const Mac& mac() const override { return mac_; }
  bool up() const override { return connected_ && !broken_; }
  // netback completes blank TCP checksums always, and segments when it offers GSO TCPv4.
  Offloads offloads() const override { return {.tcp_checksum = true, .tso = backend_tso_}; }

  bool connected() const { return connected_; }
  const LinkStats& stats() const { return stats_; }
  const Error* error() const { return broken_ ? &*broken_ : nullptr; }
  const std::string& name() const { return name_; }

  // xen::XenbusDriver (with XenbusOptions::connect_first: netback connects to a Connected
  // frontend).
  Result<void> Setup(const xen::XenbusDevice& device) override;
  Result<void> Connected(const xen::XenbusDevice& device) override;
  void Teardown(const xen::XenbusDevice& device) override;

 private:
  struct Page {
    void* data = nullptr;
    GrantRef ref;
  };

  Result<void> MakeRings(const xen::XenbusDevice& device, bool split);
  Result<Page> GrantedPage(DomId backend, bool readonly);
  void Release();
  void OnTxEvent();
  void OnRxEvent();
  void ReapTx();
  void ReadRx();
  void Deliver(const RxPacket& packet);
  void Repost(uint32_t count);
  void Fail(const Error& error);

  xen::DriverMachine& machine_;
  xen::XenstoreClient& store_;
  std::string name_;
  Mac mac_ = {};
  DomId backend_{0};

  // The connection, from Setup to Teardown.
  std::optional<TxRing> tx_;
  std::optional<RxRing> rx_;
  Page tx_ring_page_, rx_ring_page_;
  std::optional<EvtchnPort> tx_port_, rx_port_;   // the same port unless split
  std::vector<Page> tx_pages_;        // by TX id: made on first use, kept
  std::vector<uint16_t> tx_free_;     // TX ids not in flight
  std::vector<bool> tx_in_flight_;    // by TX id: the same, for checking a response at once
  std::vector<Page> rx_pages_;        // by RX id, which is the ring index's slot
  std::vector<netif_rx_response_t> rx_pending_;   // responses of a chain not yet complete
  uint32_t rx_cons_ = 0;              // ring index of the next response to read
  uint32_t rx_posted_ = 0;            // ring index of the next RX request
  bool connected_ = false;
  bool backend_tso_ = false;   // netback takes GSO TCPv4 packets (its feature-gso-tcpv4)
  std::optional<Error> broken_;

  LinkStats stats_;
};

}  // namespace skiff::net

#endif  // SKIFF_DRIVERS_NETFRONT_NETFRONT_H_
