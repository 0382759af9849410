#include "runtime/xen/xenstore_wire.h"

#include <string.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace skiff::xen {
namespace {

using namespace std::string_literals;

std::string Header(uint32_t type, uint32_t req_id, uint32_t tx_id, uint32_t len) {
  xsd_sockmsg header = {type, req_id, tx_id, len};
  return std::string(reinterpret_cast<const char*>(&header), sizeof(header));
}

TEST(XsCodecTest, EncodesStringsNulTerminatedAndTheRawTailAsIs) {
  Result<std::string> bytes = EncodeRequest(XS_WRITE, 7, XsTx{3}, {"a/b"}, "v\0w"s);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, Header(XS_WRITE, 7, 3, 7) + "a/b\0v\0w"s);
  Result<std::string> watch = EncodeRequest(XS_WATCH, 1, {}, {"p", "tok"});
  ASSERT_TRUE(watch.ok());
  EXPECT_EQ(*watch, Header(XS_WATCH, 1, 0, 6) + "p\0tok\0"s);
}

TEST(XsCodecTest, EncodeRejectsANulInAStringAndAnOversizedPayload) {
  Result<std::string> nul = EncodeRequest(XS_READ, 1, {}, {"a\0b"s});
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, EINVAL);
  EXPECT_NE(nul.error().message.find("holds a NUL"), std::string::npos);
  std::string value(XENSTORE_PAYLOAD_MAX - 1, 'v');
  EXPECT_TRUE(EncodeRequest(XS_WRITE, 1, {}, {""}, value).ok());   // exactly the limit
  Result<std::string> big = EncodeRequest(XS_WRITE, 1, {}, {"p"}, value);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, E2BIG);
  EXPECT_EQ(big.error().message,
            "xenstore: XS_WRITE request is 4097 bytes, over the 4096-byte limit");
}

TEST(XsCodecTest, DecoderReassemblesMessagesFedOneByteAtATime) {
  std::string stream = Header(XS_READ, 1, 0, 5) + "hello" + Header(XS_WRITE, 2, 9, 0) +
                       Header(XS_DIRECTORY, 3, 0, 4) + "a\0b\0"s;
  XsDecoder decoder;
  std::vector<XsMessage> out;
  for (char c : stream) {
    decoder.Feed(std::string_view(&c, 1), &out);
  }
  EXPECT_TRUE(decoder.idle());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].header.req_id, 1u);
  EXPECT_EQ(out[0].payload, "hello");
  EXPECT_EQ(out[1].header.type, static_cast<uint32_t>(XS_WRITE));
  EXPECT_EQ(out[1].header.tx_id, 9u);
  EXPECT_EQ(out[1].payload, "");
  EXPECT_EQ(out[2].payload, "a\0b\0"s);
}

TEST(XsCodecTest, DecoderHoldsAPartialMessageUntilTheRestComes) {
  std::string stream = Header(XS_READ, 4, 0, 3) + "abc";
  XsDecoder decoder;
  std::vector<XsMessage> out;
  decoder.Feed(stream.substr(0, 10), &out);
  EXPECT_FALSE(decoder.idle());
  decoder.Feed(stream.substr(10, 7), &out);
  EXPECT_TRUE(out.empty());
  decoder.Feed(stream.substr(17), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "abc");
}

TEST(XsCodecTest, DecoderSkipsAnOversizedPayloadAndKeepsItsFraming) {
  std::string stream = Header(XS_READ, 1, 0, 5000) + std::string(5000, 'x') +
                       Header(XS_READ, 2, 0, 2) + "ok";
  XsDecoder decoder;
  std::vector<XsMessage> out;
  decoder.Feed(stream, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].header.len, 5000u);
  EXPECT_TRUE(out[0].payload.empty());
  Result<void> checked = CheckHeader(out[0].header, "read of 'x'");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message,
            "xenstore: reply to read of 'x' is 5000 bytes, over the 4096-byte limit");
  EXPECT_EQ(out[1].payload, "ok");
  EXPECT_TRUE(CheckHeader(out[1].header, "read of 'x'").ok());
}

TEST(XsCodecTest, CheckHeaderRejectsUnknownTypes) {
  for (uint32_t type : {20u, 23u, 99u, 0xffffu}) {
    xsd_sockmsg header = {type, 1, 0, 0};
    Result<void> checked = CheckHeader(header, "read of 'x'");
    ASSERT_FALSE(checked.ok()) << type;
    EXPECT_EQ(checked.error().message,
              "xenstore: reply to read of 'x' has unknown type " + std::to_string(type));
  }
  EXPECT_STREQ(XsTypeName(XS_DIRECTORY_PART), "XS_DIRECTORY_PART");
  EXPECT_STREQ(XsTypeName(20), "an unknown type");
}

TEST(XsCodecTest, ParsesErrorNamesByTheXsdErrorsTable) {
  EXPECT_EQ(*ParseError("ENOENT\0"s), ENOENT);
  EXPECT_EQ(*ParseError("EAGAIN\0"s), EAGAIN);
  EXPECT_EQ(*ParseError("EPERM"), EPERM);   // the NUL is optional
  for (std::string bad : {""s, "\0"s, "EFOO\0"s, "ENOENT\0\0"s, "ENOENTX"s}) {
    Result<int> code = ParseError(bad);
    ASSERT_FALSE(code.ok()) << bad;
    EXPECT_EQ(code.error().code, EPROTO);
  }
}

TEST(XsCodecTest, WatchEventMustBeExactlyTwoStrings) {
  Result<XsWatchEvent> event = ParseWatchEvent("a/b\0tok\0"s);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->path, "a/b");
  EXPECT_EQ(event->token, "tok");
  for (std::string bad : {""s, "a\0"s, "a\0b"s, "a\0b\0c\0"s, "ab"s}) {
    Result<XsWatchEvent> parsed = ParseWatchEvent(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("not two NUL-terminated strings"), std::string::npos);
  }
}

TEST(XsCodecTest, ParsesDirectoriesAndRejectsBadNames) {
  EXPECT_EQ(*ParseDirectory("a\0bc\0"s, "d"), (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(ParseDirectory("", "d")->empty());
  for (std::string bad : {"a"s, "a\0\0"s, "a/b\0"s}) {
    EXPECT_FALSE(ParseDirectory(bad, "directory of 'x'").ok()) << bad;
  }
  EXPECT_EQ(ParseDirectory("a/b\0"s, "directory of 'x'").error().message,
            "xenstore: reply to directory of 'x' names a bad child 'a/b'");
}

TEST(XsCodecTest, ParsesAcksAndTransactionIds) {
  EXPECT_TRUE(ParseAck("OK\0"s, "w").ok());
  EXPECT_FALSE(ParseAck("OK", "w").ok());
  EXPECT_FALSE(ParseAck("NO\0"s, "w").ok());
  EXPECT_EQ(ParseTransactionId("42\0"s)->value, 42u);
  EXPECT_EQ(ParseTransactionId("4294967295\0"s)->value, 4294967295u);
  for (std::string bad : {"0\0"s, "42"s, "-1\0"s, "4294967296\0"s, "042\0"s, "\0"s, "1\0 2\0"s}) {
    EXPECT_FALSE(ParseTransactionId(bad).ok()) << bad;
  }
}

TEST(XsCodecTest, PermissionsRoundTrip) {
  using Access = XsPermission::Access;
  std::vector<XsPermission> expected = {{Access::kNone, 0}, {Access::kRead, 5},
                                        {Access::kBoth, 65535}, {Access::kWrite, 7}};
  std::string wire;
  for (const XsPermission& p : expected) wire += FormatPermission(p) + '\0';
  EXPECT_EQ(wire, "n0\0r5\0b65535\0w7\0"s);
  Result<std::vector<XsPermission>> parsed = ParsePermissions(wire, "get_perms of 'x'");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, expected);
  for (std::string bad : {""s, "x0\0"s, "r\0"s, "r65536\0"s, "r5"s, "r5a\0"s}) {
    EXPECT_FALSE(ParsePermissions(bad, "get_perms of 'x'").ok()) << bad;
  }
}

}  // namespace
}  // namespace skiff::xen
