#include "tests/unit/fake_xenstored.h"

#include <string.h>

#include <algorithm>

namespace skiff {
namespace {

// The NUL-terminated strings of a request's payload, and what follows the last NUL.
std::vector<std::string> Split(const std::string& payload, std::string* tail = nullptr) {
  std::vector<std::string> strings;
  size_t start = 0, end;
  while ((end = payload.find('\0', start)) != std::string::npos) {
    strings.push_back(payload.substr(start, end - start));
    start = end + 1;
  }
  if (tail != nullptr) *tail = payload.substr(start);
  return strings;
}

bool IsUnder(const std::string& path, const std::string& top) {
  return path == top || (path.size() > top.size() && path.compare(0, top.size(), top) == 0 &&
                         path[top.size()] == '/');
}

std::string Message(uint32_t type, uint32_t req_id, uint32_t tx_id, const std::string& payload) {
  xsd_sockmsg header = {type, req_id, tx_id, static_cast<uint32_t>(payload.size())};
  return std::string(reinterpret_cast<const char*>(&header), sizeof(header)) + payload;
}

}  // namespace

FakeXenstored::FakeXenstored(FakePlatform* platform, evtchn_port_t port)
    : platform_(platform), port_(port), tick_([] {}) {
  platform_->AddPoller(this, [this] { Poll(); });
}

void FakeXenstored::Stop() {
  platform_->RemovePoller(this);
  tick_.Cancel();
}

xen::XsRing FakeXenstored::ClientRing() { return {&ring_, [this] { kicks++; }}; }

void FakeXenstored::ReleaseHeld(bool reversed) {
  if (reversed) std::reverse(held_.begin(), held_.end());
  for (const std::string& reply : held_) out_ += reply;
  held_.clear();
}

void FakeXenstored::SendRaw(const std::string& bytes) { out_ += bytes; }

void FakeXenstored::SendWatchEvent(const std::string& path, const std::string& token) {
  out_ += Message(XS_WATCH_EVENT, 0, 0, path + '\0' + token + '\0');
}

void FakeXenstored::RunAhead() {
  __atomic_store_n(&ring_.rsp_prod, ring_.rsp_cons + XENSTORE_RING_SIZE + 1, __ATOMIC_RELEASE);
  platform_->Raise(port_);
}

void FakeXenstored::Put(const std::string& path, const std::string& value) {
  CreateParents(&nodes, path);
  nodes[path].value = value;
  Changed(nullptr, path, false);
}

void FakeXenstored::Remove(const std::string& path) {
  for (auto it = nodes.begin(); it != nodes.end();) {
    it = IsUnder(it->first, path) ? nodes.erase(it) : std::next(it);
  }
  Changed(nullptr, path, true);
}

void FakeXenstored::Poll() {
  if (stalled) return;
  ReadRequests();
  WriteReplies();
  if (!out_.empty()) tick_.ArmAfter(1000);   // fires after this turn's PollEvents
}

void FakeXenstored::ReadRequests() {
  XENSTORE_RING_IDX cons = ring_.req_cons;
  XENSTORE_RING_IDX prod = __atomic_load_n(&ring_.req_prod, __ATOMIC_ACQUIRE);
  if (prod == cons) return;
  EXPECT_LE(prod - cons, static_cast<uint32_t>(XENSTORE_RING_SIZE)) << "client overran the ring";
  for (; cons != prod; cons++) in_.push_back(ring_.req[MASK_XENSTORE_IDX(cons)]);
  __atomic_store_n(&ring_.req_cons, cons, __ATOMIC_RELEASE);
  platform_->Raise(port_);
  xsd_sockmsg header;
  while (in_.size() >= sizeof(header)) {
    memcpy(&header, in_.data(), sizeof(header));
    EXPECT_LE(header.len, static_cast<uint32_t>(XENSTORE_PAYLOAD_MAX)) << "oversized request";
    if (in_.size() < sizeof(header) + header.len) break;
    std::string payload = in_.substr(sizeof(header), header.len);
    in_.erase(0, sizeof(header) + header.len);
    Handle(header, payload);
  }
}

void FakeXenstored::WriteReplies() {
  XENSTORE_RING_IDX prod = ring_.rsp_prod;
  uint32_t space = XENSTORE_RING_SIZE - (prod - __atomic_load_n(&ring_.rsp_cons, __ATOMIC_ACQUIRE));
  size_t n = std::min({out_.size(), static_cast<size_t>(space), reply_chunk});
  if (n == 0) return;
  for (size_t i = 0; i < n; i++) ring_.rsp[MASK_XENSTORE_IDX(prod + i)] = out_[i];
  out_.erase(0, n);
  __atomic_store_n(&ring_.rsp_prod, prod + static_cast<XENSTORE_RING_IDX>(n), __ATOMIC_RELEASE);
  platform_->Raise(port_);
}

void FakeXenstored::Handle(const xsd_sockmsg& header, const std::string& payload) {
  requests++;
  Transaction* tx = nullptr;
  if (header.tx_id != 0) {
    auto it = transactions_.find(header.tx_id);
    if (it == transactions_.end()) return ReplyError(header, "ENOENT");
    tx = &it->second;
  }
  Tree& tree = tx != nullptr ? tx->nodes : nodes;
  std::string tail;
  std::vector<std::string> args = Split(payload, &tail);
  if (args.empty()) return ReplyError(header, "EINVAL");
  const std::string& path = args[0];
  const std::string ok("OK", 3);
  switch (header.type) {
    case XS_READ: {
      auto it = tree.find(path);
      if (it == tree.end()) return ReplyError(header, "ENOENT");
      return Reply(header, XS_READ, it->second.value);
    }
    case XS_WRITE:
      CreateParents(&tree, path);
      tree[path].value = payload.substr(path.size() + 1);
      writes.emplace_back(path, tree[path].value);
      Changed(tx, path, false);
      return Reply(header, XS_WRITE, ok);
    case XS_MKDIR:
      CreateParents(&tree, path);
      tree[path];
      Changed(tx, path, false);
      return Reply(header, XS_MKDIR, ok);
    case XS_RM: {
      if (tree.count(path) == 0) return ReplyError(header, "ENOENT");
      for (auto it = tree.begin(); it != tree.end();) {
        it = IsUnder(it->first, path) ? tree.erase(it) : std::next(it);
      }
      Changed(tx, path, true);
      return Reply(header, XS_RM, ok);
    }
    case XS_DIRECTORY: {
      if (tree.count(path) == 0) return ReplyError(header, "ENOENT");
      std::string names;
      for (const auto& [name, node] : tree) {
        if (IsUnder(name, path) && name != path && name.find('/', path.size() + 1) == name.npos) {
          names += name.substr(path.size() + 1) + '\0';
        }
      }
      return Reply(header, XS_DIRECTORY, names);
    }
    case XS_GET_PERMS: {
      auto it = tree.find(path);
      if (it == tree.end()) return ReplyError(header, "ENOENT");
      return Reply(header, XS_GET_PERMS, it->second.permissions);
    }
    case XS_SET_PERMS: {
      auto it = tree.find(path);
      if (it == tree.end()) return ReplyError(header, "ENOENT");
      if (args.size() < 2 || !tail.empty()) return ReplyError(header, "EINVAL");
      it->second.permissions = payload.substr(path.size() + 1);
      return Reply(header, XS_SET_PERMS, ok);
    }
    case XS_WATCH:
      if (args.size() != 2) return ReplyError(header, "EINVAL");
      watches_.push_back({path, args[1]});
      Reply(header, XS_WATCH, ok);
      return SendWatchEvent(path, args[1]);   // fires once when set, as xenstored does
    case XS_UNWATCH: {
      auto it = std::find_if(watches_.begin(), watches_.end(), [&](const Watch& w) {
        return args.size() == 2 && w.path == path && w.token == args[1];
      });
      if (it == watches_.end()) return ReplyError(header, "ENOENT");
      watches_.erase(it);
      return Reply(header, XS_UNWATCH, ok);
    }
    case XS_TRANSACTION_START: {
      uint32_t id = next_tx_++;
      transactions_[id] = Transaction{nodes, generation_, {}};
      return Reply(header, XS_TRANSACTION_START, std::to_string(id) + '\0');
    }
    case XS_TRANSACTION_END: {
      if (tx == nullptr) return ReplyError(header, "EINVAL");
      Transaction done = std::move(*tx);
      transactions_.erase(header.tx_id);
      if (path == "T") {
        if (eagain_commits > 0 || done.generation != generation_) {
          if (eagain_commits > 0) eagain_commits--;
          return ReplyError(header, "EAGAIN");
        }
        nodes = std::move(done.nodes);
        generation_++;
        for (const std::string& changed : done.changed) FireWatches(changed, false);
      }
      return Reply(header, XS_TRANSACTION_END, ok);
    }
    default:
      return ReplyError(header, "EINVAL");
  }
}

void FakeXenstored::Reply(const xsd_sockmsg& header, uint32_t type, std::string payload) {
  uint32_t req_id = header.req_id;
  if (wrong_req_id > 0) {
    wrong_req_id--;
    req_id += 0x10000;
  }
  if (wrong_type > 0) {
    wrong_type--;
    type = type == XS_WRITE ? XS_READ : XS_WRITE;
  }
  if (unknown_type > 0) {
    unknown_type--;
    type = 99;
  }
  if (oversized > 0) {
    oversized--;
    payload.assign(XENSTORE_PAYLOAD_MAX + 904, 'x');
  }
  std::string message = Message(type, req_id, header.tx_id, payload);
  if (hold_replies) {
    held_.push_back(message);
  } else {
    out_ += message;
  }
}

void FakeXenstored::ReplyError(const xsd_sockmsg& header, const char* name) {
  Reply(header, XS_ERROR, std::string(name) + '\0');
}

void FakeXenstored::Changed(Transaction* tx, const std::string& path, bool removed) {
  if (tx != nullptr) {
    tx->changed.push_back(path);
    return;
  }
  generation_++;
  FireWatches(path, removed);
}

void FakeXenstored::FireWatches(const std::string& path, bool removed) {
  for (const Watch& watch : watches_) {
    if (IsUnder(path, watch.path)) {
      SendWatchEvent(path, watch.token);
    } else if (removed && IsUnder(watch.path, path)) {
      SendWatchEvent(watch.path, watch.token);
    }
  }
}

void FakeXenstored::CreateParents(Tree* tree, const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    (*tree)[path.substr(0, slash)];
  }
}

}  // namespace skiff
