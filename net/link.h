// What the network stack needs of a device: send a frame, be told of received ones, of room
// to send again and of the link going up or down. netfront is one; the host tests wire two
// stacks' links together.
#ifndef SKIFF_NET_LINK_H_
#define SKIFF_NET_LINK_H_

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <functional>
#include <span>

#include "skiff/result.h"

namespace skiff::net {

// Checksum state of a frame, as the stack sees it.
enum class Checksum : uint8_t {
  kComplete,    // every checksum is filled in
  kBlank,       // the L4 checksum holds only the pseudo-header sum: the other side completes it
  kValidated,   // (received) the device already checked it
};

// How the device is to send one frame.
struct SendOptions {
  // kBlank: the frame is an IPv4 TCP packet whose checksum field holds only the pseudo-header
  // sum; the device (or its backend) completes it.
  Checksum checksum = Checksum::kComplete;
  // Not 0: the frame is an IPv4 TCP packet larger than the link's MTU (with kBlank), which the
  // device cuts into segments of this many payload bytes (TSO).
  uint16_t gso_size = 0;
};

// What the device can do for the stack when sending; it may change when the link comes up.
struct Offloads {
  bool tcp_checksum = false;   // completes TCP checksums left blank
  bool tso = false;            // cuts IPv4 TCP packets of up to 64 KiB into segments
};

// One piece of a frame: the stack's buffer chain when sending, the device's buffers when
// receiving.
struct FramePiece {
  const void* data;
  size_t size;
};

using Mac = std::array<uint8_t, 6>;

class Link {
 public:
  // A received frame of |bytes| in |pieces|: valid during the call, in the event loop.
  using Receiver =
      std::function<void(std::span<const FramePiece> pieces, size_t bytes, Checksum checksum)>;

  virtual ~Link() = default;

  // Sends one frame (copied: the pieces may go once this returns). EAGAIN when the device has
  // no room (on_tx_space runs once it has), ENETDOWN while the link is down.
  virtual Result<void> Send(std::span<const FramePiece> pieces,
                            const SendOptions& options = {}) = 0;
  virtual const Mac& mac() const = 0;
  virtual bool up() const = 0;
  virtual Offloads offloads() const { return {}; }

  void SetReceiver(Receiver receiver) { receiver_ = std::move(receiver); }
  void SetOnTxSpace(std::function<void()> f) { on_tx_space_ = std::move(f); }
  // Runs when the link comes up (the backend connected, again after a reconnection) or goes
  // down.
  void SetOnLinkChange(std::function<void(bool up)> f) { on_link_change_ = std::move(f); }

 protected:
  Receiver receiver_;
  std::function<void()> on_tx_space_;
  std::function<void(bool)> on_link_change_;
};

}  // namespace skiff::net

#endif  // SKIFF_NET_LINK_H_
