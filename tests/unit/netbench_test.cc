// apps/netbench's JSON reader and iperf3 messages, with what a Debian iperf3 3.12 client sends.
#include <errno.h>
#include <math.h>

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "apps/netbench/iperf_protocol.h"
#include "apps/netbench/json.h"

namespace netbench {
namespace {

using json::Value;

TEST(NetbenchJson, ParsesEveryKindOfValue) {
  skiff::Result<Value> v = json::Parse(
      " {\"a\": [1, -2.5e3, 0.25, true, false, null], \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\","
      " \"o\": {}, \"e\": [], \"u\": \"\\u00e9\\u20ac\\ud83d\\ude00\"}\n");
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_TRUE(v->is_object());
  const Value* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 6u);
  EXPECT_EQ(a->items[0].number, 1);
  EXPECT_EQ(a->items[1].number, -2500);
  EXPECT_EQ(a->items[2].number, 0.25);
  EXPECT_TRUE(a->items[3].boolean);
  EXPECT_EQ(a->items[4].kind, Value::Kind::kBool);
  EXPECT_FALSE(a->items[4].boolean);
  EXPECT_EQ(a->items[5].kind, Value::Kind::kNull);
  EXPECT_EQ(v->Find("s")->string, "x\"\\/\b\f\n\r\t");
  EXPECT_TRUE(v->Find("o")->is_object());
  EXPECT_TRUE(v->Find("e")->is_array());
  EXPECT_EQ(v->Find("u")->string, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(NetbenchJson, RefusesBadText) {
  for (const char* text :
       {"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", "1e", "-",
        ".5", "+1", "tru", "nul", "\"open", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"",
        "\"\\udc00\"", "\"a\nb\"", "{} {}", "[1] x", "NaN", "Infinity"}) {
    skiff::Result<Value> v = json::Parse(text);
    EXPECT_FALSE(v.ok()) << "parsed: " << text;
    if (!v.ok()) {
      EXPECT_EQ(v.error().code, EINVAL);
    }
  }
}

TEST(NetbenchJson, RefusesDeepNestingWithoutOverflowingTheStack) {
  std::string deep(json::kMaxDepth + 1, '[');
  deep += std::string(json::kMaxDepth + 1, ']');
  EXPECT_FALSE(json::Parse(deep).ok());
  std::string fine(json::kMaxDepth, '[');
  fine += std::string(json::kMaxDepth, ']');
  EXPECT_TRUE(json::Parse(fine).ok());
  EXPECT_FALSE(json::Parse(std::string(1'000'000, '[')).ok());
}

TEST(NetbenchJson, QuotesWhatItReadsBack) {
  std::string text = "line\n\"quoted\" \\ tab\t \x01 caf\xc3\xa9";
  std::string quoted = json::Quote(text);
  EXPECT_EQ(quoted, "\"line\\n\\\"quoted\\\" \\\\ tab\\t \\u0001 caf\xc3\xa9\"");
  skiff::Result<Value> back = json::Parse(quoted);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->string, text);
}

// What iperf3 3.12's send_parameters writes for `iperf3 -c ADDR -t 5 -P 2 -R`.
constexpr const char* kClientParams =
    "{\"tcp\":true,\"omit\":0,\"time\":5,\"num\":0,\"blockcount\":0,\"parallel\":2,"
    "\"reverse\":true,\"len\":131072,\"pacing_timer\":1000,\"client_version\":\"3.12\"}";

TEST(NetbenchIperf, ReadsAClientsParameters) {
  std::variant<iperf::Params, iperf::Refusal> parsed = iperf::ParseParams(kClientParams);
  const iperf::Params* p = std::get_if<iperf::Params>(&parsed);
  ASSERT_NE(p, nullptr) << std::get<iperf::Refusal>(parsed).why;
  EXPECT_EQ(p->streams, 2);
  EXPECT_TRUE(p->reverse);
  EXPECT_FALSE(p->bidirectional);
  EXPECT_EQ(p->block_size, 131072u);
  EXPECT_EQ(p->seconds, 5u);
  EXPECT_EQ(p->omit_seconds, 0u);
  EXPECT_EQ(p->rate, 0u);
  EXPECT_EQ(p->client_version, "3.12");
  EXPECT_EQ(p->receive_streams(), 0);
  EXPECT_EQ(p->send_streams(), 2);
}

TEST(NetbenchIperf, CountsStreamsEachWay) {
  auto params = [](const char* text) {
    return std::get<iperf::Params>(iperf::ParseParams(text));
  };
  iperf::Params plain = params("{\"tcp\":true,\"parallel\":3}");
  EXPECT_EQ(plain.receive_streams(), 3);
  EXPECT_EQ(plain.send_streams(), 0);
  iperf::Params both = params("{\"tcp\":true,\"parallel\":3,\"bidirectional\":true}");
  EXPECT_EQ(both.receive_streams(), 3);
  EXPECT_EQ(both.send_streams(), 3);
  EXPECT_EQ(both.total_streams(), 6);
  iperf::Params defaults = params("{}");   // iperf3's server takes TCP when none is named
  EXPECT_EQ(defaults.streams, 1);
  EXPECT_EQ(defaults.block_size, iperf::kDefaultBlockSize);
  EXPECT_EQ(defaults.seconds, 10u);
}

TEST(NetbenchIperf, RefusesWhatIperf3WouldNotRun) {
  struct Case {
    const char* text;
    iperf::ClientError code;
  };
  for (const Case& c : {
           Case{"{\"udp\":true}", iperf::ClientError::kUnimplemented},
           Case{"{\"sctp\":true}", iperf::ClientError::kUnimplemented},
           Case{"{\"parallel\":0}", iperf::ClientError::kNumStreams},
           Case{"{\"parallel\":129}", iperf::ClientError::kNumStreams},
           Case{"{\"len\":0}", iperf::ClientError::kBlockSize},
           Case{"{\"len\":1048577}", iperf::ClientError::kBlockSize},
           Case{"{\"time\":-1}", iperf::ClientError::kDuration},
           Case{"{\"time\":86401}", iperf::ClientError::kDuration},
           Case{"{\"omit\":601}", iperf::ClientError::kOmit},
           Case{"{\"reverse\":true,\"bidirectional\":true}", iperf::ClientError::kReverseBidir},
           Case{"{\"time\":\"5\"}", iperf::ClientError::kRecvParams},
           Case{"[1]", iperf::ClientError::kRecvParams},
           Case{"{\"tcp\":true", iperf::ClientError::kRecvParams},
           Case{"", iperf::ClientError::kRecvParams},
       }) {
    std::variant<iperf::Params, iperf::Refusal> parsed = iperf::ParseParams(c.text);
    const iperf::Refusal* refusal = std::get_if<iperf::Refusal>(&parsed);
    ASSERT_NE(refusal, nullptr) << c.text;
    EXPECT_EQ(refusal->code, c.code) << c.text << ": " << refusal->why;
    EXPECT_FALSE(refusal->why.empty());
  }
}

TEST(NetbenchIperf, NumbersStreamsAsIperf3Does) {
  EXPECT_EQ(iperf::StreamId(0), 1);
  EXPECT_EQ(iperf::StreamId(1), 3);
  EXPECT_EQ(iperf::StreamId(2), 4);
}

// The server's results carry what iperf3 3.12's get_results requires, and read back.
TEST(NetbenchIperf, WritesResultsTheClientReads) {
  iperf::ServerResults results;
  results.cpu_total = results.cpu_user = 42.5;
  results.seconds = 5.031;
  results.streams = {{1, 139321960}, {3, 12'000'000'000}};
  results.output = "a line\n";
  std::string text = iperf::FormatResults(results);
  skiff::Result<Value> v = json::Parse(text);
  ASSERT_TRUE(v.ok()) << text;
  EXPECT_EQ(v->Find("cpu_util_total")->number, 42.5);
  EXPECT_EQ(v->Find("cpu_util_system")->number, 0);
  EXPECT_EQ(v->Find("sender_has_retransmits")->number, -1);   // the server only received
  EXPECT_EQ(v->Find("server_output_text")->string, "a line\n");
  const Value* streams = v->Find("streams");
  ASSERT_EQ(streams->items.size(), 2u);
  EXPECT_EQ(streams->items[1].Find("id")->number, 3);
  EXPECT_EQ(streams->items[1].Find("bytes")->number, 12e9);
  EXPECT_EQ(streams->items[0].Find("retransmits")->number, -1);
  EXPECT_NEAR(streams->items[0].Find("end_time")->number, 5.031, 1e-6);
  EXPECT_EQ(streams->items[0].Find("start_time")->number, 0);
  results.sends = true;
  results.output.reset();
  v = json::Parse(iperf::FormatResults(results));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->Find("sender_has_retransmits")->number, 0);
  EXPECT_EQ(v->Find("server_output_text"), nullptr);
  // The same shape is what a client sends.
  skiff::Result<std::vector<iperf::StreamResult>> back =
      iperf::ParseClientResults(iperf::FormatResults(results));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].id, 3);
  EXPECT_EQ((*back)[1].bytes, 12'000'000'000u);
}

TEST(NetbenchIperf, ReadsAClientsResultsAndRefusesBadOnes) {
  skiff::Result<std::vector<iperf::StreamResult>> ok = iperf::ParseClientResults(
      "{\"cpu_util_total\":3.1,\"cpu_util_user\":0.2,\"cpu_util_system\":2.9,"
      "\"sender_has_retransmits\":1,\"congestion_used\":\"cubic\",\"streams\":[{\"id\":1,"
      "\"bytes\":140730860,\"retransmits\":1,\"jitter\":0,\"errors\":0,\"packets\":0,"
      "\"start_time\":0,\"end_time\":5.01}]}");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].bytes, 140730860u);
  for (const char* bad : {
           "[]",
           "{\"streams\":[]}",
           "{\"cpu_util_total\":1,\"cpu_util_user\":1,\"cpu_util_system\":1,"
           "\"sender_has_retransmits\":0}",
           "{\"cpu_util_total\":1,\"cpu_util_user\":1,\"cpu_util_system\":1,"
           "\"sender_has_retransmits\":0,\"streams\":[{\"id\":1}]}",
           "{\"cpu_util_total\":1,\"cpu_util_user\":1,\"cpu_util_system\":1,"
           "\"sender_has_retransmits\":0,\"streams\":[{\"id\":1,\"bytes\":-1,\"retransmits\":0,"
           "\"jitter\":0,\"errors\":0,\"packets\":0}]}",
           "{\"cpu_util_total\":1,\"cpu_util_user\":1,\"cpu_util_system\":1,"
           "\"sender_has_retransmits\":0,\"streams\":[{\"id\":1e300,\"bytes\":1,"
           "\"retransmits\":0,\"jitter\":0,\"errors\":0,\"packets\":0}]}",
       }) {
    skiff::Result<std::vector<iperf::StreamResult>> r = iperf::ParseClientResults(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(NetbenchIperf, FramesLengthsBigEndian) {
  std::array<uint8_t, 4> header = iperf::EncodeLength(0x01020304);
  EXPECT_EQ(header, (std::array<uint8_t, 4>{1, 2, 3, 4}));
  EXPECT_EQ(iperf::DecodeLength(header), 0x01020304u);
  EXPECT_EQ(iperf::DecodeLength(iperf::EncodeLength(0xffffffff)), 0xffffffffu);
}

}  // namespace
}  // namespace netbench
