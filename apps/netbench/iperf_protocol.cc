// iperf3's parameters and results messages, read and written as iperf 3.x's get_parameters,
// send_results and get_results (src/iperf_api.c) expect them.
#include "apps/netbench/iperf_protocol.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <utility>

#include "apps/netbench/json.h"

namespace netbench::iperf {

namespace {

inline constexpr int kMaxOmit = 600;   // iperf.h's MAX_OMIT_TIME

// Reads a parameters object's members; the first bad one becomes the refusal.
class ParamReader {
 public:
  explicit ParamReader(const json::Value& object) : object_(object) {}

  bool Has(const char* key) const { return object_.Find(key) != nullptr; }

  // A number member within [low, high], if there is one; else |out| stays as it is.
  template <typename T>
  void Number(const char* key, double low, double high, ClientError code, T& out) {
    const json::Value* value = object_.Find(key);
    if (value == nullptr || refusal_) return;
    if (!value->is_number()) {
      Refuse(ClientError::kRecvParams, "\"%s\" is not a number", key);
    } else if (!(value->number >= low && value->number <= high)) {
      Refuse(code, "\"%s\" is %g, outside %g to %g", key, value->number, low, high);
    } else {
      out = static_cast<T>(value->number);
    }
  }

  void String(const char* key, std::string& out) {
    const json::Value* value = object_.Find(key);
    if (value != nullptr && value->kind == json::Value::Kind::kString) out = value->string;
  }

  void Refuse(ClientError code, const char* format, ...) __attribute__((format(printf, 3, 4))) {
    if (refusal_) return;
    va_list args;
    va_start(args, format);
    char why[160];
    vsnprintf(why, sizeof(why), format, args);
    va_end(args);
    refusal_ = Refusal{code, why};
  }

  std::optional<Refusal>& refusal() { return refusal_; }

 private:
  const json::Value& object_;
  std::optional<Refusal> refusal_;
};

}  // namespace

std::variant<Params, Refusal> ParseParams(std::string_view text) {
  skiff::Result<json::Value> parsed = json::Parse(text);
  if (!parsed) return Refusal{ClientError::kRecvParams, "parameters: " + parsed.error().message};
  if (!parsed->is_object()) {
    return Refusal{ClientError::kRecvParams, "parameters: not a JSON object"};
  }
  ParamReader reader(*parsed);
  Params params;
  if (reader.Has("udp") || reader.Has("sctp")) {
    reader.Refuse(ClientError::kUnimplemented, "a %s test: only TCP is served",
                  reader.Has("udp") ? "UDP" : "SCTP");
  }
  reader.Number("parallel", 1, kMaxStreams, ClientError::kNumStreams, params.streams);
  reader.Number("len", 1, kMaxBlockSize, ClientError::kBlockSize, params.block_size);
  reader.Number("time", 0, kMaxTime, ClientError::kDuration, params.seconds);
  reader.Number("omit", 0, kMaxOmit, ClientError::kOmit, params.omit_seconds);
  reader.Number("bandwidth", 0, 1e18, ClientError::kRecvParams, params.rate);
  // iperf3 takes these flags by their presence, as its client writes them only when set.
  params.reverse = reader.Has("reverse");
  params.bidirectional = reader.Has("bidirectional");
  params.no_delay = reader.Has("nodelay");
  params.server_output = reader.Has("get_server_output");
  reader.String("client_version", params.client_version);
  if (params.reverse && params.bidirectional) {
    reader.Refuse(ClientError::kReverseBidir, "both reverse and bidirectional");
  }
  if (reader.refusal()) return std::move(*reader.refusal());
  return params;
}

std::string FormatResults(const ServerResults& results) {
  char text[256];
  snprintf(text, sizeof(text),
           "{\"cpu_util_total\":%.4f,\"cpu_util_user\":%.4f,\"cpu_util_system\":%.4f,"
           "\"sender_has_retransmits\":%d,\"streams\":[",
           results.cpu_total, results.cpu_user, results.cpu_system, results.sends ? 0 : -1);
  std::string out = text;
  for (size_t i = 0; i < results.streams.size(); i++) {
    const StreamResult& stream = results.streams[i];
    snprintf(text, sizeof(text),
             "%s{\"id\":%d,\"bytes\":%" PRIu64 ",\"retransmits\":-1,\"jitter\":0,\"errors\":0,"
             "\"packets\":0,\"start_time\":0,\"end_time\":%.6f}",
             i == 0 ? "" : ",", stream.id, stream.bytes, results.seconds);
    out += text;
  }
  out += "]";
  if (results.output) out += ",\"server_output_text\":" + json::Quote(*results.output);
  return out + "}";
}

skiff::Result<std::vector<StreamResult>> ParseClientResults(std::string_view text) {
  json::Value results = TRY(json::Parse(text));
  auto bad = [](const char* what) {
    return skiff::MakeError(EINVAL, "the client's results: %s", what);
  };
  if (!results.is_object()) return bad("not a JSON object");
  for (const char* key : {"cpu_util_total", "cpu_util_user", "cpu_util_system",
                          "sender_has_retransmits"}) {
    const json::Value* value = results.Find(key);
    if (value == nullptr || !value->is_number()) return bad("a CPU figure is missing");
  }
  const json::Value* streams = results.Find("streams");
  if (streams == nullptr || !streams->is_array()) return bad("\"streams\" is missing");
  std::vector<StreamResult> out;
  for (const json::Value& stream : streams->items) {
    if (!stream.is_object()) return bad("a stream is not an object");
    for (const char* key : {"id", "bytes", "retransmits", "jitter", "errors", "packets"}) {
      const json::Value* value = stream.Find(key);
      if (value == nullptr || !value->is_number()) return bad("a stream lacks a number");
    }
    double id = stream.Find("id")->number, bytes = stream.Find("bytes")->number;
    if (!(id >= 0 && id <= 1e9 && bytes >= 0 && bytes < 1.8e19)) {
      return bad("a stream's id or bytes are out of range");
    }
    out.push_back({static_cast<int>(id), static_cast<uint64_t>(bytes)});
  }
  return out;
}

std::array<uint8_t, 4> EncodeLength(uint32_t length) {
  return {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
          static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
}

uint32_t DecodeLength(std::span<const uint8_t, 4> header) {
  return uint32_t{header[0]} << 24 | uint32_t{header[1]} << 16 | uint32_t{header[2]} << 8 |
         header[3];
}

}  // namespace netbench::iperf
