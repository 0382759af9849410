// libFuzzer target: arbitrary bytes as the JSON messages an iperf3 client sends netbench (its
// parameters and its results), and whatever parses written back and read again. Build and
// run: scripts/lib/fuzz iperf.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>
#include <variant>

#include "apps/netbench/iperf_protocol.h"
#include "apps/netbench/json.h"

using namespace netbench;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  skiff::Result<json::Value> value = json::Parse(text);
  if (value.ok() && value->kind == json::Value::Kind::kString) {
    // A string read, quoted and read again is the same string.
    skiff::Result<json::Value> again = json::Parse(json::Quote(value->string));
    if (!again.ok() || again->string != value->string) __builtin_trap();
  }
  std::variant<iperf::Params, iperf::Refusal> params = iperf::ParseParams(text);
  if (const iperf::Params* p = std::get_if<iperf::Params>(&params)) {
    if (p->streams < 1 || p->streams > iperf::kMaxStreams || p->block_size < 1 ||
        p->block_size > iperf::kMaxBlockSize) {
      __builtin_trap();   // a test the server would run, beyond the limits it checks
    }
  }
  skiff::Result<std::vector<iperf::StreamResult>> results = iperf::ParseClientResults(text);
  if (results.ok()) {
    iperf::ServerResults server;
    server.streams = *results;
    server.output = std::string(text);
    if (!json::Parse(iperf::FormatResults(server)).ok()) __builtin_trap();
  }
  return 0;
}
