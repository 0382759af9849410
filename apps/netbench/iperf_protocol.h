// iperf3's control protocol, the server's side, as iperf 3.x speaks it (esnet/iperf:
// src/iperf_api.h, iperf_api.c, iperf_server_api.c): the states, the parameters a client sends
// and the results a server sends back. Portable: the host tests use it.
//
// A test: the client connects to port 5201 and sends its cookie (kCookieSize bytes, 36
// characters and a NUL); from then on the server moves the test along with one-byte states on
// that control connection. PARAM_EXCHANGE: the client sends its parameters (JSON);
// CREATE_STREAMS: it opens the data connections, to the same port, each starting with the same
// cookie; TEST_START, TEST_RUNNING: data flows until the client sends TEST_END;
// EXCHANGE_RESULTS: the client sends its results, then the server its own; DISPLAY_RESULTS:
// the client prints both and sends IPERF_DONE. A JSON message is framed by its length, four
// bytes big-endian. A busy server answers a new connection with ACCESS_DENIED; a server that
// refuses a test sends SERVER_ERROR, then iperf3's error number and an errno, four bytes
// big-endian each.
#ifndef APPS_NETBENCH_IPERF_PROTOCOL_H_
#define APPS_NETBENCH_IPERF_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "skiff/result.h"

namespace netbench::iperf {

inline constexpr uint16_t kPort = 5201;
inline constexpr size_t kCookieSize = 37;
inline constexpr uint32_t kMaxJson = 256 * 1024;   // a longer message is refused

// Limits as iperf3 has them (iperf.h, iperf_api.h), so that a client hears the same refusals.
inline constexpr int kMaxStreams = 128;
inline constexpr uint32_t kMaxBlockSize = 1024 * 1024;
inline constexpr uint32_t kDefaultBlockSize = 128 * 1024;
inline constexpr int kMaxTime = 86400;   // seconds, for "time" and "omit"

using Cookie = std::array<uint8_t, kCookieSize>;

enum class State : int8_t {
  kTestStart = 1,
  kTestRunning = 2,
  kTestEnd = 4,
  kParamExchange = 9,
  kCreateStreams = 10,
  kServerTerminate = 11,
  kClientTerminate = 12,
  kExchangeResults = 13,
  kDisplayResults = 14,
  kIperfDone = 16,
  kAccessDenied = -1,
  kServerError = -2,
};

// iperf3's error numbers (i_errno), which a client prints as text after SERVER_ERROR.
enum class ClientError : int32_t {
  kDuration = 5,        // "test duration too long"
  kNumStreams = 6,      // "number of parallel streams too large"
  kBlockSize = 7,       // "block size too large"
  kOmit = 12,           // "bogus value for --omit"
  kUnimplemented = 13,  // "an option you are trying to set is not implemented yet"
  kReverseBidir = 25,   // "cannot be both reverse and bidirectional"
  kRecvParams = 114,    // "unable to receive parameters from client"
};

// The test a client asks for (its "parameters" message).
struct Params {
  int streams = 1;                           // "parallel": data connections each way
  bool reverse = false;                      // the server sends
  bool bidirectional = false;                // both send, each over `streams` connections
  uint32_t block_size = kDefaultBlockSize;   // "len": bytes a sender writes at a time
  uint32_t seconds = 10;                     // "time"; 0 when bytes or blocks end the test
  uint32_t omit_seconds = 0;                 // "omit": the first seconds are not counted
  uint64_t rate = 0;                         // "bandwidth": a sender's bits/s at most; 0: any
  bool no_delay = false;                     // "nodelay"
  bool server_output = false;                // "get_server_output": send the server's text
  std::string client_version;                // "client_version", for messages

  // The server receives on the first receive_streams() data connections (the client opens
  // its sending ones first) and sends on the send_streams() after them.
  int receive_streams() const { return reverse ? 0 : streams; }
  int send_streams() const { return reverse || bidirectional ? streams : 0; }
  int total_streams() const { return receive_streams() + send_streams(); }
};

// Why the server refuses a test: the number the client turns into its message, and a
// message for the guest's console.
struct Refusal {
  ClientError code;
  std::string why;
};

// The client's parameters message, or why the test cannot run: bad JSON, a protocol other
// than TCP, values beyond iperf3's own limits.
std::variant<Params, Refusal> ParseParams(std::string_view json);

// A data connection's id: iperf3 numbers a test's streams 1, 3, 4, 5... in the order they
// connect (iperf_add_stream), so both sides agree without telling each other.
constexpr int StreamId(int index) { return index == 0 ? 1 : index + 2; }

struct StreamResult {
  int id = 0;
  uint64_t bytes = 0;   // the bytes the stream sent (a sender) or received, omitted ones aside
};

struct ServerResults {
  double cpu_total = 0, cpu_user = 0, cpu_system = 0;   // percent of the test's time
  bool sends = false;        // the server sent on some stream
  double seconds = 0;        // how long the streams were measured, omitted seconds aside
  std::vector<StreamResult> streams;
  std::optional<std::string> output;   // the server's text, when the client asked for it
};

// The server's results message. Retransmissions are not counted (lwIP keeps no count per
// connection), so "sender_has_retransmits" is 0, or -1 when the server only received, as
// iperf3 sends it then.
std::string FormatResults(const ServerResults& results);

// The client's results message: what each of its streams sent or received. EINVAL for one
// that lacks what iperf3 requires of it (get_results).
skiff::Result<std::vector<StreamResult>> ParseClientResults(std::string_view json);

// A JSON message's length header.
std::array<uint8_t, 4> EncodeLength(uint32_t length);
uint32_t DecodeLength(std::span<const uint8_t, 4> header);

}  // namespace netbench::iperf

#endif  // APPS_NETBENCH_IPERF_PROTOCOL_H_
