#include "runtime/xen/xenstore.h"

#include "runtime/xen/byte_ring.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <utility>

namespace skiff::xen {
namespace {

std::string What(const char* op, std::string_view path) {
  return std::string(op) + " of '" + std::string(path) + "'";
}

uint64_t DeadlineAfter(uint64_t ns) {
  uint64_t now = Now();
  return ns >= kNever - now ? kNever : now + ns;
}

}  // namespace

XenstoreClient::XenstoreClient(XsRing ring, XsClientOptions options)
    : ring_(ring.ring), notify_(std::move(ring.notify)), options_(options),
      req_prod_(ring_->req_prod), rsp_cons_(ring_->rsp_cons) {}

XenstoreClient::~XenstoreClient() {
  stopping_ = true;
  watch_wakeup_.WakeAll();
  if (watch_task_ != nullptr) Join(watch_task_);
}

uint32_t XenstoreClient::NextReqId() {
  while (requests_.count(next_req_id_) != 0) next_req_id_++;
  return next_req_id_++;
}

Result<std::string> XenstoreClient::Call(uint32_t type, XsTx tx,
                                         std::initializer_list<std::string_view> args,
                                         std::string_view raw, std::string what) {
  if (broken_) return *broken_;
  Request request;
  request.req_id = NextReqId();
  request.type = type;
  request.what = std::move(what);
  Result<std::string> bytes = EncodeRequest(type, request.req_id, tx, args, raw);
  if (!bytes) return bytes.error();
  uint64_t deadline = DeadlineAfter(options_.timeout_ns);
  requests_[request.req_id] = &request;
  Result<void> sent = Send(*bytes, deadline, request.what);
  if (!sent) {
    requests_.erase(request.req_id);
    return sent.error();
  }
  request.state = State::kSent;
  while (request.state != State::kDone) {
    if (!request.waiter.WaitUntil(deadline)) {
      requests_.erase(request.req_id);
      return MakeError(ETIMEDOUT, "xenstore: %s got no reply in %llu ms", request.what.c_str(),
                       static_cast<unsigned long long>(options_.timeout_ns / 1000000));
    }
  }
  return std::move(*request.reply);
}

Result<void> XenstoreClient::CallForAck(uint32_t type, XsTx tx,
                                        std::initializer_list<std::string_view> args,
                                        std::string_view raw, std::string what) {
  Result<std::string> reply = Call(type, tx, args, raw, what);
  if (!reply) return reply.error();
  return ParseAck(*reply, what);
}

Result<void> XenstoreClient::Send(const std::string& bytes, uint64_t deadline,
                                  const std::string& what) {
  // One request at a time: their bytes must not interleave in the ring.
  while (sending_) {
    if (!senders_.WaitUntil(deadline)) {
      return MakeError(ETIMEDOUT, "xenstore: %s timed out waiting for its turn at the request ring",
                       what.c_str());
    }
    if (broken_) return *broken_;
  }
  sending_ = true;
  Result<void> copied = CopyIn(bytes, deadline, what);
  sending_ = false;
  senders_.WakeOne();
  return copied;
}

Result<void> XenstoreClient::CopyIn(const std::string& bytes, uint64_t deadline,
                                    const std::string& what) {
  size_t done = 0;
  while (done < bytes.size()) {
    if (broken_) return *broken_;
    XENSTORE_RING_IDX cons = __atomic_load_n(&ring_->req_cons, __ATOMIC_ACQUIRE);
    uint32_t used = req_prod_ - cons;
    if (used > XENSTORE_RING_SIZE) {
      MarkBroken(MakeError(EPROTO,
                           "xenstore: the request ring's consumer index is %u bytes past the "
                           "producer",
                           cons - req_prod_));
      return *broken_;
    }
    if (used == XENSTORE_RING_SIZE) {
      if (ring_space_.WaitUntil(deadline)) continue;
      if (done == 0) {
        return MakeError(ETIMEDOUT, "xenstore: %s timed out waiting for room in the request ring",
                         what.c_str());
      }
      // Half a request is in the ring: nothing sent after it could be framed right.
      MarkBroken(MakeError(ETIMEDOUT,
                           "xenstore: xenstored stopped reading the request ring part way "
                           "through %s",
                           what.c_str()));
      return *broken_;
    }
    size_t n = ByteRingPut(ring_->req, XENSTORE_RING_SIZE, req_prod_, cons,
                           std::string_view(bytes).substr(done));
    done += n;
    req_prod_ += static_cast<XENSTORE_RING_IDX>(n);
    __atomic_store_n(&ring_->req_prod, req_prod_, __ATOMIC_RELEASE);
    notify_();
  }
  return {};
}

void XenstoreClient::OnEvent() {
  if (broken_) return;
  std::vector<XsMessage> messages;
  // xenstored notifies after each write, so what it adds after this pass comes with an event.
  for (int pass = 0; pass < 4; pass++) {
    XENSTORE_RING_IDX prod = __atomic_load_n(&ring_->rsp_prod, __ATOMIC_ACQUIRE);
    uint32_t available = prod - rsp_cons_;
    if (available == 0) break;
    if (available > XENSTORE_RING_SIZE) {
      MarkBroken(MakeError(EPROTO,
                           "xenstore: the reply ring's producer index is %u bytes ahead of the "
                           "consumer, over the %d-byte ring",
                           available, XENSTORE_RING_SIZE));
      return;
    }
    char bytes[XENSTORE_RING_SIZE];   // copied once, then parsed: xenstored may change the ring
    ByteRingGet(ring_->rsp, XENSTORE_RING_SIZE, rsp_cons_, prod, bytes, sizeof(bytes));
    rsp_cons_ += available;
    __atomic_store_n(&ring_->rsp_cons, rsp_cons_, __ATOMIC_RELEASE);
    notify_();
    decoder_.Feed(std::string_view(bytes, available), &messages);
  }
  for (XsMessage& message : messages) Dispatch(message);
  ring_space_.WakeAll();
}

void XenstoreClient::Dispatch(XsMessage& message) {
  const xsd_sockmsg& header = message.header;
  if (header.type == XS_WATCH_EVENT) return DispatchWatchEvent(message);
  auto it = requests_.find(header.req_id);
  if (it == requests_.end() || it->second->state != State::kSent) {
    return Problem(&stats_.unknown_replies,
                   "xenstore: dropped a %s reply for req_id %u, which no request in flight has",
                   XsTypeName(header.type), header.req_id);
  }
  Request* request = it->second;
  Result<void> checked = CheckHeader(header, request->what);
  if (!checked) {
    Problem(&stats_.bad_replies, "%s", checked.error().message.c_str());
    return Complete(request, checked.error());
  }
  if (header.type == XS_ERROR) {
    Result<int> code = ParseError(message.payload);
    if (!code) {
      Problem(&stats_.bad_replies, "%s", code.error().message.c_str());
      return Complete(request, code.error());
    }
    std::string_view name(message.payload.data(), strnlen(message.payload.data(),
                                                           message.payload.size()));
    return Complete(request, MakeError(*code, "xenstore: %s failed: %.*s",
                                       request->what.c_str(), static_cast<int>(name.size()),
                                       name.data()));
  }
  if (header.type != request->type) {
    Error error = MakeError(EPROTO, "xenstore: reply to %s has type %s, not %s",
                            request->what.c_str(), XsTypeName(header.type),
                            XsTypeName(request->type));
    Problem(&stats_.bad_replies, "%s", error.message.c_str());
    return Complete(request, error);
  }
  Complete(request, std::move(message.payload));
}

void XenstoreClient::DispatchWatchEvent(const XsMessage& message) {
  if (message.header.len > XENSTORE_PAYLOAD_MAX) {
    return Problem(&stats_.bad_watch_events,
                   "xenstore: dropped a watch event of %u bytes, over the %d-byte limit",
                   message.header.len, XENSTORE_PAYLOAD_MAX);
  }
  Result<XsWatchEvent> event = ParseWatchEvent(message.payload);
  if (!event) return Problem(&stats_.bad_watch_events, "%s", event.error().message.c_str());
  auto it = watches_.find(event->token);
  if (it == watches_.end()) {
    return Problem(&stats_.unknown_watch_events,
                   "xenstore: dropped a watch event for token '%.100s', which no watch has",
                   event->token.c_str());
  }
  if (it->second.retired) return;
  watch_events_.push_back(std::move(*event));
  watch_wakeup_.WakeOne();
}

void XenstoreClient::Complete(Request* request, Result<std::string> reply) {
  request->reply = std::move(reply);
  request->state = State::kDone;
  requests_.erase(request->req_id);
  request->waiter.WakeOne();
}

void XenstoreClient::MarkBroken(Error error) {
  if (broken_) return;
  fprintf(stderr, "%s; the xenstore client is broken\n", error.message.c_str());
  broken_ = std::move(error);
  while (!requests_.empty()) Complete(requests_.begin()->second, *broken_);
  ring_space_.WakeAll();
  senders_.WakeAll();
}

void XenstoreClient::Problem(uint64_t* counter, const char* format, ...) {
  ++*counter;
  char message[300];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  fprintf(stderr, "%s\n", message);
}

Result<std::string> XenstoreClient::Read(std::string_view path, XsTx tx) {
  return Call(XS_READ, tx, {path}, {}, What("read", path));
}

Result<void> XenstoreClient::Write(std::string_view path, std::string_view value, XsTx tx) {
  return CallForAck(XS_WRITE, tx, {path}, value, What("write", path));
}

Result<void> XenstoreClient::Mkdir(std::string_view path, XsTx tx) {
  return CallForAck(XS_MKDIR, tx, {path}, {}, What("mkdir", path));
}

Result<void> XenstoreClient::Rm(std::string_view path, XsTx tx) {
  return CallForAck(XS_RM, tx, {path}, {}, What("rm", path));
}

Result<std::vector<std::string>> XenstoreClient::Directory(std::string_view path, XsTx tx) {
  std::string what = What("directory", path);
  Result<std::string> reply = Call(XS_DIRECTORY, tx, {path}, {}, what);
  if (!reply) return reply.error();
  return ParseDirectory(*reply, what);
}

Result<std::vector<XsPermission>> XenstoreClient::GetPermissions(std::string_view path,
                                                                 XsTx tx) {
  std::string what = What("get_perms", path);
  Result<std::string> reply = Call(XS_GET_PERMS, tx, {path}, {}, what);
  if (!reply) return reply.error();
  return ParsePermissions(*reply, what);
}

Result<void> XenstoreClient::SetPermissions(std::string_view path,
                                            const std::vector<XsPermission>& permissions,
                                            XsTx tx) {
  std::string list;   // NUL-terminated strings, passed as the raw tail
  for (const XsPermission& permission : permissions) {
    list += FormatPermission(permission);
    list.push_back('\0');
  }
  return CallForAck(XS_SET_PERMS, tx, {path}, list, What("set_perms", path));
}

Result<XsTx> XenstoreClient::TransactionStart() {
  Result<std::string> reply = Call(XS_TRANSACTION_START, {}, {""}, {}, "transaction start");
  if (!reply) return reply.error();
  return ParseTransactionId(*reply);
}

Result<void> XenstoreClient::TransactionEnd(XsTx tx, bool commit) {
  return CallForAck(XS_TRANSACTION_END, tx, {commit ? "T" : "F"}, {},
                    "transaction end of " + std::to_string(tx.value));
}

Result<void> XenstoreClient::Transaction(const std::function<Result<void>(XsTx)>& body) {
  for (int attempt = 0; attempt < options_.transaction_attempts; attempt++) {
    Result<XsTx> tx = TransactionStart();
    if (!tx) return tx.error();
    Result<void> done = body(*tx);
    if (!done) {
      (void)TransactionEnd(*tx, false);
      if (done.error().code == EAGAIN) continue;
      return done;
    }
    Result<void> ended = TransactionEnd(*tx, true);
    if (ended || ended.error().code != EAGAIN) return ended;
  }
  return MakeError(EAGAIN,
                   "xenstore: transaction gave up after %d attempts, each ended by EAGAIN "
                   "(a conflicting change)",
                   options_.transaction_attempts);
}

Result<XsWatchId> XenstoreClient::Watch(std::string_view path,
                                        std::function<void(std::string_view)> callback) {
  if (broken_) return *broken_;
  if (watch_task_ == nullptr) {
    Result<Task*> task = Spawn([this] { WatchTaskMain(); }, {.name = "xenstore-watch"});
    if (!task) return task.error();
    watch_task_ = *task;
  }
  XsWatchId id{next_watch_++};
  std::string token = "skiff-" + std::to_string(id.value);
  // Registered first: xenstored fires the watch once on registration, maybe before the ack.
  watches_[token] = WatchEntry{std::string(path), std::move(callback)};
  Result<void> acked = CallForAck(XS_WATCH, {}, {path, token}, {}, What("watch", path));
  if (!acked) {
    watches_.erase(token);
    return acked.error();
  }
  return id;
}

Result<void> XenstoreClient::Unwatch(XsWatchId id) {
  std::string token = "skiff-" + std::to_string(id.value);
  auto it = watches_.find(token);
  if (it == watches_.end() || it->second.retired) {
    return MakeError(EINVAL, "xenstore: unwatch of watch %llu, which is not watching",
                     static_cast<unsigned long long>(id.value));
  }
  it->second.retired = true;
  Result<void> acked =
      CallForAck(XS_UNWATCH, {}, {it->second.path, token}, {}, What("unwatch", it->second.path));
  watches_.erase(token);
  return acked;
}

void XenstoreClient::WatchTaskMain() {
  while (!stopping_) {
    if (watch_events_.empty()) {
      watch_wakeup_.Wait();
      continue;
    }
    XsWatchEvent event = std::move(watch_events_.front());
    watch_events_.pop_front();
    auto it = watches_.find(event.token);
    if (it == watches_.end() || it->second.retired) continue;
    // A copy: the callback may unwatch itself, which frees the entry.
    std::function<void(std::string_view)> callback = it->second.callback;
    callback(event.path);
  }
}

}  // namespace skiff::xen
