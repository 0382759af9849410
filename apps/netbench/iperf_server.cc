// The iperf3 server: a coroutine per new connection until its cookie is in (Greet), then one
// per test (ServeTest) and one per data connection (RunStream). Only the test's coroutine
// reads and writes the control connection; a stream counts bytes and watches the test's
// phase to know when to stop. A read or write cannot be cancelled, only given a deadline, so
// a stream waits on the network in slices of kSlice and looks at the phase between them.
#include "apps/netbench/iperf_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "apps/netbench/iperf_protocol.h"
#include "skiff/result.h"
#include "skiff/sched.h"
#include "skiff/skiff.h"

// TRY for coroutines, which cannot `return`: co_returns the error from the enclosing
// Co<Result<...>>, else yields the value (a GNU statement expression, as TRY is).
#define CO_TRY(expr)                                          \
  ({                                                          \
    auto&& netbench_try_result_ = (expr);                     \
    if (!netbench_try_result_.ok()) co_return netbench_try_result_.error(); \
    std::move(netbench_try_result_).value();                  \
  })

namespace netbench {

namespace {

namespace net = skiff::net;
using iperf::State;
using skiff::Co;
using skiff::Error;
using skiff::MakeError;
using skiff::Result;

constexpr uint64_t kSecond = 1'000'000'000;
// What a client is given for each step before the server gives up on it.
constexpr uint64_t kGreetTime = 10 * kSecond;   // to send its cookie
constexpr uint64_t kSetupTime = 30 * kSecond;   // for its parameters, then its streams
// After the test's own time, for the results and the goodbyes: iperf3's server gives 4 s to
// each of 10 state changes (create_server_timers).
constexpr uint64_t kGraceTime = 40 * kSecond;
constexpr uint64_t kSlice = kSecond / 10;   // a stream looks at the phase this often at least
constexpr uint64_t kPace = kSecond / 1000;  // a sender held back by "bandwidth" waits this long
// errno sent after SERVER_ERROR, which the client shows for some errors: Linux's EINVAL.
constexpr int32_t kLinuxEinval = 22;

enum class Phase { kParams, kCreateStreams, kRunning, kEnded };

struct Stream {
  explicit Stream(net::TcpStream c) : conn(std::move(c)) {}

  int id = 0;
  bool sends = false;
  net::TcpStream conn;
  uint64_t bytes = 0;     // counted: past the omitted seconds, before the test ended
  uint64_t written = 0;   // every byte queued, for "bandwidth"
};

struct Test {
  Test(uint64_t n, std::string from, const iperf::Cookie& c, net::TcpStream control_conn)
      : number(n), peer(std::move(from)), cookie(c), control(std::move(control_conn)) {}

  // Counts |n| bytes |stream| moved, unless they fall in the omitted seconds or after the end.
  void Count(Stream& stream, size_t n) {
    if (phase == Phase::kRunning && skiff::Now() >= count_from) stream.bytes += n;
  }
  double MeasuredSeconds() const {
    return end > count_from ? static_cast<double>(end - count_from) / kSecond : 0;
  }

  const uint64_t number;   // tests since boot, for messages
  const std::string peer;
  const iperf::Cookie cookie;
  net::TcpStream control;
  Phase phase = Phase::kParams;
  uint64_t deadline = 0;   // for what the test waits on next
  iperf::Params params;
  std::vector<std::unique_ptr<Stream>> streams;
  int running = 0;         // stream coroutines not yet ended
  skiff::WaitQueue changed;   // a stream connected, or a stream coroutine ended
  std::vector<uint8_t> block;   // what the senders send
  std::vector<uint8_t> sink;    // where the receivers read to; nobody looks at it
  uint64_t start = 0, count_from = 0, end = 0;
  skiff::VcpuTimes cpu_start = {};
  double cpu_percent = 0;   // the vCPU's running time over the test's
};

struct Server {
  Test* current = nullptr;   // the test under way, which new connections may be streams of
  uint64_t tests = 0;
};

Error Context(const Error& error, const char* what) {
  return MakeError(error.code, "%s: %s", what, error.message.c_str());
}

// A state the client sent when the server did not expect it.
Error Unexpected(const Test& t, uint8_t byte) {
  if (static_cast<State>(static_cast<int8_t>(byte)) == State::kClientTerminate) {
    return MakeError(ECONNABORTED, "the client ended the test early");
  }
  static constexpr const char* kPhases[] = {"the parameters", "the streams", "the test",
                                            "the results"};
  return MakeError(EPROTO, "protocol error: state %d from the client during %s",
                   static_cast<int8_t>(byte), kPhases[static_cast<int>(t.phase)]);
}

Co<Result<void>> ReadExact(net::TcpStream& conn, std::span<uint8_t> buffer, uint64_t deadline) {
  for (size_t got = 0; got < buffer.size();) {
    Result<size_t> n = co_await conn.ReadAsync(buffer.subspan(got), deadline);
    if (!n) co_return n.error();
    if (*n == 0) co_return MakeError(EPIPE, "the client closed the connection");
    got += *n;
  }
  co_return Result<void>();
}

Co<Result<void>> ReadControl(Test& t, std::span<uint8_t> buffer, const char* what) {
  Result<void> done = co_await ReadExact(t.control, buffer, t.deadline);
  if (!done) co_return Context(done.error(), what);
  co_return done;
}

Co<Result<void>> WriteControl(Test& t, std::span<const uint8_t> data, const char* what) {
  Result<size_t> n = co_await t.control.WriteAsync(data, t.deadline);
  if (!n) co_return Context(n.error(), what);
  if (*n < data.size()) co_return MakeError(ETIMEDOUT, "%s: write timed out", what);
  co_return Result<void>();
}

Co<Result<void>> SendState(Test& t, State state) {
  const uint8_t byte = static_cast<uint8_t>(state);
  co_return co_await WriteControl(t, std::span(&byte, 1), "sending a state");
}

Co<Result<std::string>> ReadJson(Test& t, const char* what) {
  std::array<uint8_t, 4> header;
  CO_TRY(co_await ReadControl(t, header, what));
  uint32_t length = iperf::DecodeLength(header);
  if (length > iperf::kMaxJson) {
    co_return MakeError(EMSGSIZE, "%s: %" PRIu32 " bytes long, over the %" PRIu32 " taken", what,
                        length, iperf::kMaxJson);
  }
  std::string text(length, '\0');
  CO_TRY(co_await ReadControl(t, {reinterpret_cast<uint8_t*>(text.data()), length}, what));
  co_return text;
}

Co<Result<void>> SendJson(Test& t, const std::string& text) {
  std::array<uint8_t, 4> header = iperf::EncodeLength(static_cast<uint32_t>(text.size()));
  std::string message(header.begin(), header.end());
  message += text;
  co_return co_await WriteControl(
      t, {reinterpret_cast<const uint8_t*>(message.data()), message.size()}, "sending results");
}

// SERVER_ERROR, then the error number the client prints and an errno, big-endian.
Co<Result<void>> SendRefusal(Test& t, iperf::ClientError code) {
  auto number = static_cast<uint32_t>(code);
  auto error = static_cast<uint32_t>(kLinuxEinval);
  std::array<uint8_t, 9> message = {static_cast<uint8_t>(State::kServerError)};
  std::array<uint8_t, 4> a = iperf::EncodeLength(number), b = iperf::EncodeLength(error);
  std::copy(a.begin(), a.end(), message.begin() + 1);
  std::copy(b.begin(), b.end(), message.begin() + 5);
  co_return co_await WriteControl(t, message, "refusing the test");
}

// ---- The data connections.

Co<Result<void>> Receive(Test& t, Stream& s) {
  while (t.phase == Phase::kRunning) {
    Result<size_t> n = co_await s.conn.ReadAsync(t.sink, skiff::Now() + kSlice);
    if (!n && n.error().code == ETIMEDOUT) continue;
    if (!n) co_return n.error();
    if (*n == 0) co_return MakeError(EPIPE, "the client closed it before the end");
    t.Count(s, *n);
  }
  co_return Result<void>();
}

Co<Result<void>> Send(Test& t, Stream& s) {
  const double bytes_per_ns = static_cast<double>(t.params.rate) / 8 / kSecond;
  auto held_back = [&] {   // by "bandwidth", a stream's own bits per second
    double allowed = bytes_per_ns * static_cast<double>(skiff::Now() - t.start);
    return bytes_per_ns > 0 && static_cast<double>(s.written) >= allowed;
  };
  while (t.phase == Phase::kRunning) {
    if (held_back()) {
      co_await skiff::Sleep(kPace);
      continue;
    }
    Result<size_t> n = co_await s.conn.WriteAsync(t.block, skiff::Now() + kSlice);
    if (!n && n.error().code == ETIMEDOUT) continue;
    if (!n) co_return n.error();
    s.written += *n;
    t.Count(s, *n);
  }
  co_return Result<void>();
}

// Runs one data connection until the test leaves kRunning; the test outlives it (ServeTest
// waits for every stream coroutine to end).
Co<> RunStream(Test* t, Stream* s) {
  Result<void> done = s->sends ? co_await Send(*t, *s) : co_await Receive(*t, *s);
  if (!done && t->phase == Phase::kRunning) {
    printf("netbench: iperf3 #%" PRIu64 " stream %d: %s\n", t->number, s->id,
           done.error().message.c_str());
  }
  if (--t->running == 0) t->changed.WakeAll();
}

Co<> StopStreams(Test& t) {
  t.phase = Phase::kEnded;
  while (t.running > 0) co_await skiff::WaitAwaiter(t.changed, skiff::kNever);
}

// ---- The test, on its control connection.

Co<Result<void>> ReadParams(Test& t) {
  std::string text = CO_TRY(co_await ReadJson(t, "waiting for the parameters"));
  std::variant<iperf::Params, iperf::Refusal> parsed = iperf::ParseParams(text);
  if (const iperf::Refusal* refusal = std::get_if<iperf::Refusal>(&parsed)) {
    (void)co_await SendRefusal(t, refusal->code);
    co_return MakeError(EINVAL, "refused: %s", refusal->why.c_str());
  }
  t.params = *std::get_if<iperf::Params>(&parsed);
  if (t.params.send_streams() > 0) {
    t.block.resize(t.params.block_size);
    for (size_t i = 0; i < t.block.size(); i++) t.block[i] = static_cast<uint8_t>(i * 7 + 1);
  }
  if (t.params.receive_streams() > 0) t.sink.resize(t.params.block_size);
  co_return Result<void>();
}

// Whether the client went away, or spoke out of turn, while the test waits on something
// else: a read of the control connection that ends at once.
Co<Result<void>> CheckControl(Test& t) {
  uint8_t byte = 0;
  Result<size_t> n = co_await t.control.ReadAsync(std::span(&byte, 1), skiff::Now());
  if (!n && n.error().code == ETIMEDOUT) co_return Result<void>();
  if (!n) co_return Context(n.error(), "the control connection");
  if (*n == 0) co_return MakeError(EPIPE, "the client closed the connection");
  co_return Unexpected(t, byte);
}

// The client connects its streams once told to; its control connection stays quiet then, so
// the test looks at it between connections, and every kSlice, to notice a client that quit.
Co<Result<void>> WaitForStreams(Test& t) {
  t.phase = Phase::kCreateStreams;
  CO_TRY(co_await SendState(t, State::kCreateStreams));
  const size_t wanted = static_cast<size_t>(t.params.total_streams());
  while (t.streams.size() < wanted) {
    if (skiff::Now() >= t.deadline) {
      co_return MakeError(ETIMEDOUT, "%zu of %zu data connections came in %" PRIu64 " s",
                          t.streams.size(), wanted, kSetupTime / kSecond);
    }
    (void)co_await skiff::WaitAwaiter(t.changed, std::min(t.deadline, skiff::Now() + kSlice));
    CO_TRY(co_await CheckControl(t));
  }
  co_return Result<void>();
}

Co<Result<void>> StartStreams(Test& t) {
  t.phase = Phase::kRunning;
  t.start = skiff::Now();
  t.count_from = t.start + t.params.omit_seconds * kSecond;
  t.cpu_start = skiff::GetVcpuTimes();
  // A test the client ends by bytes or blocks ("time" 0) still ends by iperf3's longest time.
  uint64_t seconds = t.params.seconds > 0 ? t.params.seconds : iperf::kMaxTime;
  t.deadline = t.count_from + seconds * kSecond + kGraceTime;
  CO_TRY(co_await SendState(t, State::kTestStart));
  CO_TRY(co_await SendState(t, State::kTestRunning));
  for (std::unique_ptr<Stream>& s : t.streams) {
    t.running++;
    skiff::Start(RunStream(&t, s.get()));
  }
  co_return Result<void>();
}

// One line per direction: what the server counted, and what the client says it did if known.
std::string Summary(const Test& t, const std::vector<iperf::StreamResult>* client) {
  std::string text;
  double seconds = t.MeasuredSeconds();
  for (bool sends : {false, true}) {
    uint64_t bytes = 0, peer_bytes = 0;
    int count = 0;
    for (const std::unique_ptr<Stream>& s : t.streams) {
      if (s->sends != sends) continue;
      count++;
      bytes += s->bytes;
      if (client == nullptr) continue;
      for (const iperf::StreamResult& r : *client) {
        if (r.id == s->id) peer_bytes += r.bytes;
      }
    }
    if (count == 0) continue;
    char peer[64] = "";
    if (client != nullptr) {
      snprintf(peer, sizeof(peer), " (the client %s %" PRIu64 ")", sends ? "received" : "sent",
               peer_bytes);
    }
    char line[256];
    snprintf(line, sizeof(line),
             "netbench: iperf3 #%" PRIu64 " from %s: %s %" PRIu64 " bytes in %.2f s, %.2f "
             "Mbit/s, %d stream%s%s, CPU %.0f%%\n",
             t.number, t.peer.c_str(), sends ? "sent" : "received", bytes, seconds,
             seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0.0, count,
             count == 1 ? "" : "s", peer, t.cpu_percent);
    text += line;
  }
  return text;
}

iperf::ServerResults Results(const Test& t) {
  iperf::ServerResults results;
  // The app, its network stack and its drivers are one program in one privilege level: there
  // is no user and system time to tell apart, so all of it is the "user" share.
  results.cpu_total = results.cpu_user = t.cpu_percent;
  results.sends = t.params.send_streams() > 0;
  results.seconds = t.MeasuredSeconds();
  for (const std::unique_ptr<Stream>& s : t.streams) results.streams.push_back({s->id, s->bytes});
  return results;
}

// TEST_END came: stop counting, close the streams (as iperf3's server does), trade results.
Co<Result<void>> Finish(Test& t) {
  t.end = skiff::Now();
  skiff::VcpuTimes cpu = skiff::GetVcpuTimes();
  if (t.end > t.start) {
    t.cpu_percent = 100.0 * static_cast<double>(cpu.running - t.cpu_start.running) /
                    static_cast<double>(t.end - t.start);
  }
  co_await StopStreams(t);
  for (std::unique_ptr<Stream>& s : t.streams) s->conn.Close();
  iperf::ServerResults results = Results(t);
  CO_TRY(co_await SendState(t, State::kExchangeResults));
  using ClientResults = Result<std::vector<iperf::StreamResult>>;
  Result<std::string> text = co_await ReadJson(t, "waiting for the client's results");
  ClientResults client = text ? iperf::ParseClientResults(*text) : ClientResults(text.error());
  std::string summary = Summary(t, client ? &*client : nullptr);
  printf("%s", summary.c_str());
  if (!client) co_return client.error();
  if (t.params.server_output) results.output = summary;
  CO_TRY(co_await SendJson(t, iperf::FormatResults(results)));
  CO_TRY(co_await SendState(t, State::kDisplayResults));
  co_return Result<void>();
}

Co<Result<void>> RunTest(Test& t) {
  t.deadline = skiff::Now() + kSetupTime;
  CO_TRY(co_await SendState(t, State::kParamExchange));
  CO_TRY(co_await ReadParams(t));
  CO_TRY(co_await WaitForStreams(t));
  CO_TRY(co_await StartStreams(t));
  while (true) {
    uint8_t byte = 0;
    CO_TRY(co_await ReadControl(t, std::span(&byte, 1), "waiting for the client"));
    switch (static_cast<State>(static_cast<int8_t>(byte))) {
      case State::kTestStart:   // iperf3's server lets it pass, too
        break;
      case State::kTestEnd:
        if (t.phase != Phase::kRunning) co_return Unexpected(t, byte);
        CO_TRY(co_await Finish(t));
        break;
      case State::kIperfDone:
        if (t.phase != Phase::kEnded) co_return Unexpected(t, byte);
        co_return Result<void>();
      default:   // CLIENT_TERMINATE too
        co_return Unexpected(t, byte);
    }
  }
}

Co<> ServeTest(Server* server, std::unique_ptr<Test> t) {
  t->control.SetNoDelay(true);   // the states are single bytes, each awaited
  Result<void> done = co_await RunTest(*t);
  if (!done) {
    printf("netbench: iperf3 #%" PRIu64 " from %s: %s\n", t->number, t->peer.c_str(),
           done.error().message.c_str());
  }
  // The next client may come now, while this test's streams wind down: a benchmark runs its
  // clients back to back.
  server->current = nullptr;
  co_await StopStreams(*t);
}

void AddStream(Test& t, net::TcpStream conn) {
  int index = static_cast<int>(t.streams.size());
  auto s = std::make_unique<Stream>(std::move(conn));
  s->id = iperf::StreamId(index);
  s->sends = index >= t.params.receive_streams();
  if (t.params.no_delay) s->conn.SetNoDelay(true);
  t.streams.push_back(std::move(s));
  t.changed.WakeAll();
}

// A new connection: its cookie makes it a new test's control connection, a data connection
// of the test under way, or one to turn away.
Co<> Greet(Server* server, net::TcpStream conn) {
  std::string peer = conn.peer().address.ToString();
  iperf::Cookie cookie;
  Result<void> got = co_await ReadExact(conn, cookie, skiff::Now() + kGreetTime);
  if (!got) {
    printf("netbench: iperf3 connection from %s: no cookie: %s\n", peer.c_str(),
           got.error().message.c_str());
    co_return;
  }
  Test* current = server->current;
  if (current == nullptr) {
    auto t = std::make_unique<Test>(++server->tests, std::move(peer), cookie, std::move(conn));
    server->current = t.get();
    skiff::Start(ServeTest(server, std::move(t)));
    co_return;
  }
  if (current->phase == Phase::kCreateStreams && cookie == current->cookie &&
      current->streams.size() < static_cast<size_t>(current->params.total_streams())) {
    AddStream(*current, std::move(conn));
    co_return;
  }
  printf("netbench: iperf3 connection from %s turned away: test #%" PRIu64 " is under way\n",
         peer.c_str(), current->number);
  const uint8_t denied = static_cast<uint8_t>(State::kAccessDenied);
  (void)co_await conn.WriteAsync(std::span(&denied, 1), skiff::Now() + kGreetTime);
}

}  // namespace

Co<> ServeIperf(net::TcpListener listener) {
  Server server;   // in this coroutine's frame, which never ends
  while (true) {
    Result<net::TcpStream> conn = co_await listener.AcceptAsync();
    if (!conn) {
      printf("netbench: iperf3: accept: %s\n", conn.error().message.c_str());
      co_await skiff::Sleep(kSecond);   // not a busy loop, whatever went wrong
      continue;
    }
    skiff::Start(Greet(&server, std::move(*conn)));
  }
}

}  // namespace netbench
