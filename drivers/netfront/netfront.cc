// netfront: the Xen virtual network interface frontend. [xen/io/netif.h]
#include "drivers/netfront/netfront.h"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <utility>

namespace skiff::net {
namespace {

// RX buffers posted: a sixteenth of memory, a power of two from 32 to the ring's 256.
uint32_t RxBuffers(uint64_t ram, uint32_t ring_size) {
  uint64_t pages = ram / kPageSize / 16;
  uint32_t n = 32;
  while (n * 2 <= pages && n * 2 <= ring_size) n *= 2;
  return std::min(n, ring_size);
}

}  // namespace

Netfront::Netfront(xen::DriverMachine& machine, xen::XenstoreClient& store, std::string name)
    : machine_(machine), store_(store), name_(std::move(name)) {}

Netfront::~Netfront() { Release(); }

Result<Netfront::Page> Netfront::GrantedPage(DomId backend, bool readonly) {
  void* data = TRY(machine_.AllocPages(1));
  Result<GrantRef> ref = machine_.grants().Offer(backend, machine_.GfnOf(data), readonly);
  if (!ref) {
    machine_.FreePage(data);
    return ref.error();
  }
  return Page{data, *ref};
}

// ---- The xenbus steps.

Result<void> Netfront::Setup(const xen::XenbusDevice& device) {
  Release();
  broken_.reset();
  backend_ = device.backend_id;
  if (!TRY(xen::ReadBackendFeature(store_, device, "feature-rx-copy"))) {
    return MakeError(ENODEV, "netfront: %s: the backend (%s) does not copy received packets "
                     "(no feature-rx-copy), which this frontend needs", device.node.c_str(),
                     device.backend.c_str());
  }
  mac_ = TRY(xen::ReadMac(store_, device.node + "/mac"));
  // Split event channels, as Linux's netfront takes them when netback offers them: a TX
  // completion does not make the driver look at the RX ring, nor the other way round.
  bool split = TRY(xen::ReadBackendFeature(store_, device, "feature-split-event-channels"));
  backend_tso_ = TRY(xen::ReadBackendFeature(store_, device, "feature-gso-tcpv4"));
  if (Result<void> made = MakeRings(device, split); !made) {
    Release();
    return made;
  }
  std::vector<std::pair<std::string, std::string>> keys = {
      {"tx-ring-ref", std::to_string(tx_ring_page_.ref.value)},
      {"rx-ring-ref", std::to_string(rx_ring_page_.ref.value)},
      {"request-rx-copy", "1"},
      {"feature-rx-notify", "1"},
      {"feature-sg", "1"},
      // Received packets may carry blank checksums (the stack trusts them: net/stack.cc),
      // and GSO TCPv4 packets of up to 64 KiB over several slots: dom0 then neither sums nor
      // segments what it sends us.
      {"feature-no-csum-offload", "0"},
      {"feature-gso-tcpv4", "1"},
  };
  if (split) {
    keys.push_back({"event-channel-tx", std::to_string(tx_port_->value)});
    keys.push_back({"event-channel-rx", std::to_string(rx_port_->value)});
  } else {
    keys.push_back({"event-channel", std::to_string(tx_port_->value)});
  }
  if (Result<void> written = xen::WriteFrontendKeys(store_, device, keys); !written) {
    Release();
    return written;
  }
  return {};
}

Result<void> Netfront::MakeRings(const xen::XenbusDevice& device, bool split) {
  tx_ring_page_ = TRY(GrantedPage(device.backend_id, false));
  rx_ring_page_ = TRY(GrantedPage(device.backend_id, false));
  tx_.emplace(TRY(TxRing::Init(tx_ring_page_.data, 0, name_ + " tx")));
  rx_.emplace(TRY(RxRing::Init(rx_ring_page_.data, 0, name_ + " rx")));
  tx_pages_.assign(tx_->size(), Page{});
  tx_free_.clear();
  for (uint32_t id = tx_->size(); id-- > 0;) tx_free_.push_back(static_cast<uint16_t>(id));
  tx_in_flight_.assign(tx_->size(), false);
  // Every RX buffer posted at once, the one of ring index i with id i mod the count.
  uint32_t count = RxBuffers(machine_.RamBytes(), rx_->size());
  for (uint32_t id = 0; id < count; id++) {
    rx_pages_.push_back(TRY(GrantedPage(device.backend_id, false)));
    TRY(rx_->Enqueue({static_cast<uint16_t>(id), 0, rx_pages_.back().ref.value}));
  }
  TRY(rx_->Push());   // the backend looks once connected
  rx_cons_ = 0;
  rx_posted_ = count;
  if (split) {
    tx_port_ = TRY(machine_.OpenChannel(device.backend_id, [this] { OnTxEvent(); }));
    rx_port_ = TRY(machine_.OpenChannel(device.backend_id, [this] { OnRxEvent(); }));
  } else {
    tx_port_ = TRY(machine_.OpenChannel(device.backend_id, [this] {
      OnTxEvent();
      OnRxEvent();
    }));
    rx_port_ = tx_port_;
  }
  return {};
}

Result<void> Netfront::Connected(const xen::XenbusDevice&) {
  connected_ = true;
  stats_.connects++;
  char line[160];
  snprintf(line, sizeof(line),
           "netfront: %s: %02x:%02x:%02x:%02x:%02x:%02x, %zu receive buffers%s\n", name_.c_str(),
           mac_[0], mac_[1], mac_[2], mac_[3], mac_[4], mac_[5], rx_pages_.size(),
           rx_port_ != tx_port_ ? ", split event channels" : "");
  machine_.Report(line);
  machine_.Notify(*tx_port_);
  if (rx_port_ != tx_port_) machine_.Notify(*rx_port_);
  if (on_link_change_) on_link_change_(true);
  return {};
}

void Netfront::Teardown(const xen::XenbusDevice&) {
  if (tx_) stats_.tx_drops += tx_pages_.size() - tx_free_.size();
  bool was_up = up();
  Release();
  if (was_up && on_link_change_) on_link_change_(false);
}

void Netfront::Release() {
  connected_ = false;
  if (rx_port_ && rx_port_ != tx_port_) machine_.CloseChannel(*rx_port_);
  if (tx_port_) machine_.CloseChannel(*tx_port_);
  tx_port_.reset();
  rx_port_.reset();
  tx_.reset();
  rx_.reset();
  for (Page* page : {&tx_ring_page_, &rx_ring_page_}) {
    if (page->data != nullptr) machine_.EndGrant(page->ref, page->data);
    *page = Page{};
  }
  for (const Page& page : tx_pages_) {
    if (page.data != nullptr) machine_.EndGrant(page.ref, page.data);
  }
  for (const Page& page : rx_pages_) machine_.EndGrant(page.ref, page.data);
  tx_pages_.clear();
  tx_free_.clear();
  tx_in_flight_.clear();
  rx_pages_.clear();
  rx_pending_.clear();
}

// ---- Sending.

Result<void> Netfront::Send(std::span<const FramePiece> pieces, const SendOptions& options) {
  if (broken_) return MakeError(EIO, "%s is broken: %s", name_.c_str(), broken_->message.c_str());
  if (!connected_) return MakeError(ENETDOWN, "%s: no backend is connected", name_.c_str());
  if (options.gso_size != 0 && !backend_tso_) {
    return MakeError(EINVAL, "%s: a GSO packet, which the backend does not take", name_.c_str());
  }
  size_t bytes = 0;
  for (const FramePiece& piece : pieces) bytes += piece.size;
  uint32_t count = static_cast<uint32_t>((bytes + kPageSize - 1) / kPageSize);
  if (bytes < kEthernetHeader || bytes > kMaxFrame || count > kMaxTxSlots) {
    return MakeError(EINVAL, "%s: a frame of %zu bytes", name_.c_str(), bytes);
  }
  uint32_t ring_slots = count + (options.gso_size != 0 ? 1 : 0);   // and the GSO extra
  if (tx_free_.size() < count || tx_->FreeSlots() < ring_slots) {
    stats_.tx_ring_full++;
    return MakeError(EAGAIN, "%s: the TX ring is full", name_.c_str());
  }
  TxSlot slots[kMaxTxSlots];
  for (uint32_t i = 0; i < count; i++) {
    uint16_t id = tx_free_.back();
    if (tx_pages_[id].data == nullptr) {   // read-only: the backend only reads what we send
      Result<Page> page = GrantedPage(backend_, true);
      if (!page) {
        for (uint32_t j = 0; j < i; j++) tx_free_.push_back(slots[j].id);
        return page.error();
      }
      tx_pages_[id] = *page;
    }
    tx_free_.pop_back();
    tx_in_flight_[id] = true;
    uint32_t in_slot = static_cast<uint32_t>(std::min<size_t>(kPageSize, bytes - i * kPageSize));
    slots[i] = {tx_pages_[id].ref, id, static_cast<uint16_t>(in_slot)};
  }
  size_t at = 0;   // copies the pieces across the slots' pages
  for (const FramePiece& piece : pieces) {
    const char* from = static_cast<const char*>(piece.data);
    for (size_t left = piece.size; left > 0;) {
      size_t run = std::min<size_t>(left, kPageSize - at % kPageSize);
      memcpy(static_cast<char*>(tx_pages_[slots[at / kPageSize].id].data) + at % kPageSize,
             from, run);
      from += run;
      at += run;
      left -= run;
    }
  }
  netif_tx_request_t requests[kMaxTxSlots + 1];
  TRY(TxRequests({slots, count}, static_cast<uint32_t>(bytes), options, {requests, ring_slots}));
  for (uint32_t i = 0; i < ring_slots; i++) {
    if (Result<void> queued = tx_->Enqueue(requests[i]); !queued) {
      Fail(queued.error());
      return MakeError(EIO, "%s", queued.error().message.c_str());
    }
  }
  Result<bool> notify = tx_->Push();
  if (!notify) {
    Fail(notify.error());
    return MakeError(EIO, "%s", notify.error().message.c_str());
  }
  if (*notify) machine_.Notify(*tx_port_);
  stats_.tx_packets++;
  stats_.tx_bytes += bytes;
  return {};
}

// ---- Events.

void Netfront::OnTxEvent() {
  if (tx_ && !broken_) ReapTx();
}

void Netfront::OnRxEvent() {
  if (rx_ && !broken_) ReadRx();
}

void Netfront::ReapTx() {
  bool freed = false;
  do {
    while (std::optional<netif_tx_response_t> rsp = tx_->Next()) {
      if (rsp->status == NETIF_RSP_NULL) continue;   // an extra-info slot's: no id of its own
      if (rsp->id >= tx_in_flight_.size() || !tx_in_flight_[rsp->id]) {
        return Fail(MakeError(EPROTO, "%s: a TX response for id %u, which is not in flight",
                              name_.c_str(), rsp->id));
      }
      if (Result<void> ok = CheckTxResponse(*rsp, name_); !ok) return Fail(ok.error());
      if (rsp->status == NETIF_RSP_ERROR || rsp->status == NETIF_RSP_DROPPED) stats_.tx_errors++;
      tx_in_flight_[rsp->id] = false;
      tx_free_.push_back(rsp->id);
      freed = true;
    }
  } while (tx_->FinalCheckForResponses());
  if (tx_->broken()) return Fail(tx_->error());
  if (freed && on_tx_space_) on_tx_space_();
}

void Netfront::ReadRx() {
  do {
    while (std::optional<netif_rx_response_t> rsp = rx_->Next()) rx_pending_.push_back(*rsp);
  } while (rx_->FinalCheckForResponses());
  if (rx_->broken()) return Fail(rx_->error());
  const uint32_t mask = static_cast<uint32_t>(rx_pages_.size() - 1);
  size_t taken = 0;
  while (taken < rx_pending_.size()) {
    RxPacket packet;
    Result<uint32_t> slots =
        ParseRxPacket(std::span(rx_pending_).subspan(taken), &packet, name_);
    if (!slots) return Fail(slots.error());
    if (*slots == 0) break;   // its chain goes on in responses yet to come
    // Each data slot must name the buffer posted at its ring index.
    uint32_t fragment = 0;
    for (uint32_t j = 0; j < *slots; j++) {
      bool extra = std::find(packet.extra_positions, packet.extra_positions + packet.extra_count,
                             j) != packet.extra_positions + packet.extra_count;
      if (extra) continue;
      uint32_t expected = (rx_cons_ + static_cast<uint32_t>(taken) + j) & mask;
      if (packet.fragments[fragment].id != expected) {
        return Fail(MakeError(EPROTO, "%s: the RX response at ring index %u names buffer %u, "
                              "not %u", name_.c_str(),
                              rx_cons_ + static_cast<uint32_t>(taken) + j,
                              packet.fragments[fragment].id, expected));
      }
      fragment++;
    }
    Deliver(packet);
    taken += *slots;
  }
  rx_pending_.erase(rx_pending_.begin(), rx_pending_.begin() + static_cast<ptrdiff_t>(taken));
  rx_cons_ += static_cast<uint32_t>(taken);
  Repost(static_cast<uint32_t>(taken));
}

void Netfront::Deliver(const RxPacket& packet) {
  if (packet.error) {
    stats_.rx_errors++;
    return;
  }
  if (!receiver_) {
    stats_.rx_drops++;
    return;
  }
  FramePiece pieces[std::size(packet.fragments)];
  for (uint32_t i = 0; i < packet.count; i++) {
    const RxFragment& f = packet.fragments[i];
    pieces[i] = {static_cast<char*>(rx_pages_[f.id].data) + f.offset, f.bytes};
  }
  stats_.rx_packets++;
  stats_.rx_bytes += packet.bytes;
  receiver_({pieces, packet.count}, packet.bytes, packet.checksum);
}

// Posts again the buffers of |count| slots just read: their frames are copied out, so they
// are free at once, whatever the stack does with the frames.
void Netfront::Repost(uint32_t count) {
  if (count == 0 || broken_ || !rx_) return;
  const uint32_t mask = static_cast<uint32_t>(rx_pages_.size() - 1);
  for (uint32_t i = 0; i < count; i++, rx_posted_++) {
    uint16_t id = static_cast<uint16_t>(rx_posted_ & mask);
    if (Result<void> queued = rx_->Enqueue({id, 0, rx_pages_[id].ref.value}); !queued) {
      return Fail(queued.error());
    }
  }
  Result<bool> notify = rx_->Push();
  if (!notify) return Fail(notify.error());
  if (*notify) machine_.Notify(*rx_port_);
}

void Netfront::Fail(const Error& error) {
  if (broken_) return;
  broken_ = error;
  std::string line = "netfront: " + error.message + "; the device is broken\n";
  machine_.Report(line.c_str());
  if (on_link_change_) on_link_change_(false);
}

}  // namespace skiff::net
