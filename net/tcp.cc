// TCP for tasks and coroutines, on lwIP's raw API. lwIP's callbacks only queue and wake; the
// app's calls do the rest, so every call runs to its end without a task switch unless it has
// to wait.
#include <errno.h>
#include <string.h>

#include <algorithm>
#include <deque>
#include <utility>

#include "lwip/ip.h"
#include "lwip/tcp.h"
#include "net/stack.h"
#include "skiff/net.h"

namespace skiff::net {

struct TcpStream::State {
  struct tcp_pcb* pcb = nullptr;
  std::deque<struct pbuf*> received;   // in order, not yet read
  size_t offset = 0;                   // into received.front()
  bool fin = false;                    // the peer closed its side
  bool connected = false;
  int error = 0;                       // errno once lwIP has dropped the connection
  WaitQueue readers, writers;          // a connection's Connect waits with the writers

  ~State() {
    for (struct pbuf* p : received) pbuf_free(p);
  }
};

struct TcpListener::State {
  struct tcp_pcb* pcb = nullptr;
  std::deque<TcpStream::State*> accepted;   // by lwIP, not yet by the app
  WaitQueue acceptors;
};

namespace {

using Stream = TcpStream::State;

err_t Received(void* arg, struct tcp_pcb*, struct pbuf* p, err_t) {
  auto* s = static_cast<Stream*>(arg);
  if (p == nullptr) {
    s->fin = true;
  } else {
    s->received.push_back(p);
  }
  s->readers.WakeAll();
  return ERR_OK;
}

err_t Sent(void* arg, struct tcp_pcb*, u16_t) {
  static_cast<Stream*>(arg)->writers.WakeAll();
  return ERR_OK;
}

// lwIP has freed the pcb: a reset, or it gave up.
void Failed(void* arg, err_t err) {
  auto* s = static_cast<Stream*>(arg);
  s->pcb = nullptr;
  s->error = ErrnoOf(err);
  s->readers.WakeAll();
  s->writers.WakeAll();
}

err_t Connected(void* arg, struct tcp_pcb* pcb, err_t) {
  auto* s = static_cast<Stream*>(arg);
  s->connected = true;
  OfferTso(pcb);
  s->writers.WakeAll();
  return ERR_OK;
}

void Watch(Stream* s) {
  tcp_arg(s->pcb, s);
  tcp_recv(s->pcb, &Received);
  tcp_sent(s->pcb, &Sent);
  tcp_err(s->pcb, &Failed);
}

// Lets go of the pcb: a graceful close, or a reset when received data was never read (as
// Linux does) or the close cannot be queued.
void Release(Stream* s) {
  if (s->pcb != nullptr) {
    struct tcp_pcb* pcb = s->pcb;
    s->pcb = nullptr;
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_sent(pcb, nullptr);
    tcp_err(pcb, nullptr);
    bool unread = !s->received.empty();
    if (unread || tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
    KickTimers();
  }
  delete s;
}

Endpoint EndpointOf(const ip_addr_t& address, u16_t port) {
  return {FromLwip(*ip_2_ip4(&address)), port};
}

Error ConnectionError(int code, const char* what) {
  const char* why = code == ECONNRESET     ? "the peer reset the connection"
                    : code == ECONNABORTED ? "the connection was aborted"
                                           : strerror(code);
  return MakeError(code, "%s: %s", what, why);
}

std::optional<Result<TcpStream::State*>> ConnectStep(Stream* s, bool late, const char* what) {
  if (s->connected) return s;
  if (s->error != 0) {
    // A reset answering the SYN is a refusal; lwIP giving up on its SYNs, a timeout.
    int code = s->error == ECONNRESET ? ECONNREFUSED
               : s->error == ECONNABORTED ? ETIMEDOUT : s->error;
    Release(s);
    return Result<Stream*>(MakeError(code, "%s: %s", what, strerror(code)));
  }
  if (late) {
    Release(s);
    return Result<Stream*>(MakeError(ETIMEDOUT, "%s timed out", what));
  }
  return std::nullopt;
}

Result<Stream*> StartConnect(Endpoint remote) {
  InitStack();
  auto* s = new Stream;
  s->pcb = tcp_new();
  if (s->pcb == nullptr) {
    delete s;
    return MakeError(ENOMEM, "connect to %s: no memory for a connection",
                     remote.ToString().c_str());
  }
  Watch(s);
  ip_addr_t address = ToLwip(remote.address);
  err_t err = tcp_connect(s->pcb, &address, remote.port, &Connected);
  KickTimers();
  if (err != ERR_OK) {
    Release(s);
    return MakeError(ErrnoOf(err), "connect to %s: %s", remote.ToString().c_str(),
                     err == ERR_RTE ? "no route to it" : strerror(ErrnoOf(err)));
  }
  return s;
}

}  // namespace

// ---- Connections.

Result<TcpStream> TcpStream::Connect(Endpoint remote, uint64_t deadline) {
  Stream* s = TRY(StartConnect(remote));
  std::string what = "connect to " + remote.ToString();
  // The state outlives the queue's last use: Release is the step's last act.
  WaitQueue& queue = s->writers;
  Stream* done = TRY(Block<Stream*>(queue, deadline, what.c_str(), [&](bool late) {
    return ConnectStep(s, late, what.c_str());
  }));
  return TcpStream(done);
}

Co<Result<TcpStream>> TcpStream::ConnectAsync(Endpoint remote, uint64_t deadline) {
  Result<Stream*> started = StartConnect(remote);
  if (!started) co_return started.error();
  Stream* s = *started;
  std::string what = "connect to " + remote.ToString();
  Result<Stream*> done = co_await Await<Stream*>(s->writers, deadline, what.c_str(),
                                                 [s, &what](bool late) {
                                                   return ConnectStep(s, late, what.c_str());
                                                 });
  if (!done) co_return done.error();
  co_return TcpStream(*done);
}

TcpStream::TcpStream(TcpStream&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

TcpStream& TcpStream::operator=(TcpStream&& other) noexcept {
  if (this != &other) {
    Close();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

void TcpStream::Close() {
  if (state_ != nullptr) Release(std::exchange(state_, nullptr));
}

namespace {

std::optional<Result<size_t>> ReadStep(Stream* s, std::span<uint8_t> buffer) {
  if (s->received.empty()) {
    if (s->fin) return size_t{0};
    if (s->error != 0) return Result<size_t>(ConnectionError(s->error, "read"));
    if (s->pcb == nullptr) return Result<size_t>(MakeError(ENOTCONN, "read: not connected"));
    if (buffer.empty()) return size_t{0};
    return std::nullopt;
  }
  size_t taken = 0;
  while (taken < buffer.size() && !s->received.empty()) {
    struct pbuf* p = s->received.front();
    size_t run = std::min<size_t>(buffer.size() - taken, p->tot_len - s->offset);
    pbuf_copy_partial(p, buffer.data() + taken, static_cast<u16_t>(run),
                      static_cast<u16_t>(s->offset));
    taken += run;
    s->offset += run;
    if (s->offset == p->tot_len) {
      pbuf_free(p);
      s->received.pop_front();
      s->offset = 0;
    }
  }
  // The window opens by what the app took.
  for (size_t left = taken; left > 0 && s->pcb != nullptr;) {
    u16_t chunk = static_cast<u16_t>(std::min<size_t>(left, 0xffff));
    tcp_recved(s->pcb, chunk);
    left -= chunk;
  }
  return taken;
}

// Queues what fits of |data| from |*done| on; a result once all is queued or it failed.
std::optional<Result<size_t>> WriteStep(Stream* s, std::span<const uint8_t> data, size_t* done,
                                        bool late) {
  while (*done < data.size()) {
    if (s->error != 0) return Result<size_t>(ConnectionError(s->error, "write"));
    if (s->pcb == nullptr) return Result<size_t>(MakeError(ENOTCONN, "write: not connected"));
    size_t room = tcp_sndbuf(s->pcb);
    if (room == 0) break;
    size_t left = data.size() - *done;
    u16_t n = static_cast<u16_t>(std::min(left, room));
    u8_t flags = TCP_WRITE_FLAG_COPY | (n < left ? TCP_WRITE_FLAG_MORE : 0);
    err_t err = tcp_write(s->pcb, data.data() + *done, n, flags);
    if (err == ERR_MEM) break;   // the segment queue is full: wait for ACKs
    if (err != ERR_OK) return Result<size_t>(ConnectionError(ErrnoOf(err), "write"));
    *done += n;
  }
  if (s->pcb != nullptr) tcp_output(s->pcb);
  if (*done == data.size() || (late && *done > 0)) return *done;
  return std::nullopt;
}

}  // namespace

Result<size_t> TcpStream::Read(std::span<uint8_t> buffer, uint64_t deadline) {
  if (state_ == nullptr) return MakeError(EBADF, "read: the stream is closed");
  Stream* s = state_;
  return Block<size_t>(s->readers, deadline, "read",
                       [s, buffer](bool) { return ReadStep(s, buffer); });
}

Co<Result<size_t>> TcpStream::ReadAsync(std::span<uint8_t> buffer, uint64_t deadline) {
  if (state_ == nullptr) co_return MakeError(EBADF, "read: the stream is closed");
  Stream* s = state_;
  co_return co_await Await<size_t>(s->readers, deadline, "read",
                                   [s, buffer](bool) { return ReadStep(s, buffer); });
}

Result<size_t> TcpStream::Write(std::span<const uint8_t> data, uint64_t deadline) {
  if (state_ == nullptr) return MakeError(EBADF, "write: the stream is closed");
  Stream* s = state_;
  size_t done = 0;
  return Block<size_t>(s->writers, deadline, "write", [s, data, &done](bool late) {
    return WriteStep(s, data, &done, late);
  });
}

Co<Result<size_t>> TcpStream::WriteAsync(std::span<const uint8_t> data, uint64_t deadline) {
  if (state_ == nullptr) co_return MakeError(EBADF, "write: the stream is closed");
  Stream* s = state_;
  size_t done = 0;
  co_return co_await Await<size_t>(s->writers, deadline, "write", [s, data, &done](bool late) {
    return WriteStep(s, data, &done, late);
  });
}

Result<void> TcpStream::ShutdownWrite() {
  if (state_ == nullptr) return MakeError(EBADF, "shutdown: the stream is closed");
  if (state_->pcb == nullptr) return MakeError(ENOTCONN, "shutdown: not connected");
  err_t err = tcp_shutdown(state_->pcb, 0, 1);
  KickTimers();
  if (err != ERR_OK) return ConnectionError(ErrnoOf(err), "shutdown");
  return {};
}

void TcpStream::SetNoDelay(bool on) {
  if (state_ == nullptr || state_->pcb == nullptr) return;
  if (on) {
    tcp_nagle_disable(state_->pcb);
  } else {
    tcp_nagle_enable(state_->pcb);
  }
}

Endpoint TcpStream::local() const {
  if (state_ == nullptr || state_->pcb == nullptr) return {};
  return EndpointOf(state_->pcb->local_ip, state_->pcb->local_port);
}

Endpoint TcpStream::peer() const {
  if (state_ == nullptr || state_->pcb == nullptr) return {};
  return EndpointOf(state_->pcb->remote_ip, state_->pcb->remote_port);
}

// ---- Listeners.

namespace {

using Listener = TcpListener::State;

// A connection lwIP accepted: watched from now on (what arrives is kept for the app), and
// counted against the backlog until the app accepts it.
err_t Accepted(void* arg, struct tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  auto* listener = static_cast<Listener*>(arg);
  auto* s = new Stream;
  s->pcb = pcb;
  s->connected = true;
  OfferTso(pcb);
  Watch(s);
  tcp_backlog_delayed(pcb);
  listener->accepted.push_back(s);
  listener->acceptors.WakeOne();
  return ERR_OK;
}

std::optional<Result<TcpStream::State*>> AcceptStep(Listener* l) {
  if (l->pcb == nullptr) return Result<Stream*>(MakeError(EBADF, "accept: not listening"));
  if (l->accepted.empty()) return std::nullopt;
  Stream* s = l->accepted.front();
  l->accepted.pop_front();
  if (s->pcb != nullptr) tcp_backlog_accepted(s->pcb);
  return s;
}

}  // namespace

Result<TcpListener> TcpListener::Listen(Endpoint local, int backlog) {
  InitStack();
  struct tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) return MakeError(ENOMEM, "listen on %s: no memory", local.ToString().c_str());
  ip_set_option(pcb, SOF_REUSEADDR);   // TIME_WAIT connections of an earlier server: no matter
  ip_addr_t address = ToLwip(local.address);
  err_t err = tcp_bind(pcb, &address, local.port);
  if (err != ERR_OK) {
    tcp_close(pcb);
    return MakeError(ErrnoOf(err), "listen on %s: %s", local.ToString().c_str(),
                     err == ERR_USE ? "the port is in use" : strerror(ErrnoOf(err)));
  }
  u8_t room = static_cast<u8_t>(std::clamp(backlog, 1, 255));
  struct tcp_pcb* listening = tcp_listen_with_backlog_and_err(pcb, room, &err);
  if (listening == nullptr) {
    tcp_close(pcb);
    return MakeError(ErrnoOf(err), "listen on %s: %s", local.ToString().c_str(),
                     strerror(ErrnoOf(err)));
  }
  auto* state = new Listener;
  state->pcb = listening;
  tcp_arg(listening, state);
  tcp_accept(listening, &Accepted);
  return TcpListener(state);
}

TcpListener::TcpListener(TcpListener&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)) {}

TcpListener& TcpListener::operator=(TcpListener&& other) noexcept {
  if (this != &other) {
    Close();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

Result<TcpStream> TcpListener::Accept(uint64_t deadline) {
  if (state_ == nullptr) return MakeError(EBADF, "accept: the listener is closed");
  Listener* l = state_;
  Stream* s = TRY(Block<Stream*>(l->acceptors, deadline, "accept",
                                 [l](bool) { return AcceptStep(l); }));
  return TcpStream(s);
}

Co<Result<TcpStream>> TcpListener::AcceptAsync(uint64_t deadline) {
  if (state_ == nullptr) co_return MakeError(EBADF, "accept: the listener is closed");
  Listener* l = state_;
  Result<Stream*> s = co_await Await<Stream*>(l->acceptors, deadline, "accept",
                                              [l](bool) { return AcceptStep(l); });
  if (!s) co_return s.error();
  co_return TcpStream(*s);
}

Endpoint TcpListener::local() const {
  if (state_ == nullptr || state_->pcb == nullptr) return {};
  return EndpointOf(state_->pcb->local_ip, state_->pcb->local_port);
}

void TcpListener::Close() {
  if (state_ == nullptr) return;
  Listener* l = std::exchange(state_, nullptr);
  tcp_arg(l->pcb, nullptr);
  tcp_accept(l->pcb, nullptr);
  tcp_close(l->pcb);   // never fails for a listener
  for (Stream* s : l->accepted) {   // never accepted: reset, as Linux does
    if (s->pcb != nullptr) {
      tcp_backlog_accepted(s->pcb);
      tcp_arg(s->pcb, nullptr);
      tcp_err(s->pcb, nullptr);
      tcp_abort(s->pcb);
      s->pcb = nullptr;
    }
    delete s;
  }
  delete l;
  KickTimers();
}

}  // namespace skiff::net
