// The drivers' helpers for a backend's keys and the frontend's own, against the fake
// xenstored: every value is hostile input.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/xen/xenbus.h"
#include "tests/unit/fake_platform.h"
#include "tests/unit/fake_xenstored.h"

namespace skiff {
namespace {

using xen::MacAddress;
using xen::XenbusDevice;
using xen::XenstoreClient;
using Keys = std::vector<std::pair<std::string, std::string>>;

constexpr evtchn_port_t kPort = 5;
constexpr char kBackend[] = "/local/domain/0/backend/vbd/7/768";

class XenbusKeysTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.ports.SetHandler(EvtchnPort{kPort}, [this] { client_->OnEvent(); });
  }
  void TearDown() override {
    client_.reset();
    xenstored_.Stop();
    SchedulerTest::TearDown();
  }

  void PutBackend(const std::string& key, const std::string& value) {
    xenstored_.Put(std::string(kBackend) + "/" + key, value);
  }
  std::string Path(const std::string& key) { return std::string(kBackend) + "/" + key; }
  std::optional<std::string> Node(const std::string& path) {
    auto it = xenstored_.nodes.find(path);
    if (it == xenstored_.nodes.end()) return std::nullopt;
    return it->second.value;
  }

  XenbusDevice device_{"vbd", "768", "device/vbd/768", kBackend, DomId{0}};
  FakeXenstored xenstored_{&platform_, kPort};
  std::optional<XenstoreClient> client_{std::in_place, xenstored_.ClientRing()};
};

// Unsigned integers.

TEST_F(XenbusKeysTest, ReadsAnUnsignedInteger) {
  PutBackend("sectors", "18446744073709551615");
  Result<uint64_t> sectors = xen::ReadBackendUint(*client_, device_, "sectors", UINT64_MAX);
  ASSERT_TRUE(sectors.ok()) << sectors.error().message;
  EXPECT_EQ(*sectors, UINT64_MAX);
  PutBackend("sector-size", "0");
  Result<uint64_t> size = xen::ReadBackendUint(*client_, device_, "sector-size", 4096);
  ASSERT_TRUE(size.ok()) << size.error().message;
  EXPECT_EQ(*size, 0u);
}

TEST_F(XenbusKeysTest, AMissingIntegerIsENOENTOrTheDefault) {
  Result<uint64_t> missing = xen::ReadBackendUint(*client_, device_, "sectors", UINT64_MAX);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_EQ(missing.error().message,
            "xenbus: " + Path("sectors") + ": the backend has no sectors");
  Result<uint64_t> fallback = xen::ReadBackendUint(*client_, device_, "max-ring-page-order",
                                                   8, 0);
  ASSERT_TRUE(fallback.ok()) << fallback.error().message;
  EXPECT_EQ(*fallback, 0u);
  PutBackend("max-ring-page-order", "3");
  fallback = xen::ReadBackendUint(*client_, device_, "max-ring-page-order", 8, 0);
  ASSERT_TRUE(fallback.ok()) << fallback.error().message;
  EXPECT_EQ(*fallback, 3u);
}

TEST_F(XenbusKeysTest, AMalformedIntegerIsEPROTOQuotingIt) {
  for (const char* bad : {"", "abc", "-1", "+1", " 1", "1 ", "01", "0x10", "1.5", "9",
                          "18446744073709551616", "99999999999999999999999"}) {
    SCOPED_TRACE(std::string("value '") + bad + "'");
    PutBackend("max-ring-page-order", bad);
    // The default is for a missing key only, never a malformed one.
    Result<uint64_t> r = xen::ReadBackendUint(*client_, device_, "max-ring-page-order", 8, 0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EPROTO);
    EXPECT_EQ(r.error().message, "xenbus: " + Path("max-ring-page-order") + " is '" + bad +
                                     "', not a decimal number up to 8");
  }
}

TEST_F(XenbusKeysTest, AHostileValueIsEscapedAndCutShortInTheError) {
  PutBackend("sectors", std::string("1\n\x01\\", 4) + std::string(100, 'x'));
  Result<uint64_t> r = xen::ReadBackendUint(*client_, device_, "sectors", UINT64_MAX);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "xenbus: " + Path("sectors") + " is '1\\x0a\\x01\\x5c" +
                                   std::string(60, 'x') + "...', not a decimal number up to " +
                                   "18446744073709551615");
}

// Feature flags.

TEST_F(XenbusKeysTest, AFeatureIsANumberZeroOrMissingIsFalse) {
  PutBackend("feature-flush-cache", "1");
  PutBackend("feature-barrier", "0");
  PutBackend("feature-persistent", "2");   // Linux takes any number but 0 as on
  Result<bool> flush = xen::ReadBackendFeature(*client_, device_, "feature-flush-cache");
  Result<bool> barrier = xen::ReadBackendFeature(*client_, device_, "feature-barrier");
  Result<bool> discard = xen::ReadBackendFeature(*client_, device_, "feature-discard");
  Result<bool> persistent = xen::ReadBackendFeature(*client_, device_, "feature-persistent");
  ASSERT_TRUE(flush.ok() && barrier.ok() && discard.ok() && persistent.ok());
  EXPECT_TRUE(*flush);
  EXPECT_FALSE(*barrier);
  EXPECT_FALSE(*discard);
  EXPECT_TRUE(*persistent);
}

TEST_F(XenbusKeysTest, AFeatureThatIsNotANumberIsEPROTONamingKeyPathAndValue) {
  for (const char* bad : {"", "yes", "true", "01", "1 ", "-1"}) {
    SCOPED_TRACE(std::string("value '") + bad + "'");
    PutBackend("feature-persistent", bad);
    Result<bool> r = xen::ReadBackendFeature(*client_, device_, "feature-persistent");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EPROTO);
    EXPECT_NE(r.error().message.find("feature-persistent"), std::string::npos);
    EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(Path("feature-persistent")), std::string::npos);
  }
}

// MAC addresses.

TEST_F(XenbusKeysTest, ReadsAMacAddressOfEitherCase) {
  xenstored_.Put("device/vif/0/mac", "00:16:3e:AB:cd:Ef");
  Result<MacAddress> mac = xen::ReadMac(*client_, "device/vif/0/mac");
  ASSERT_TRUE(mac.ok()) << mac.error().message;
  EXPECT_EQ(*mac, (MacAddress{0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef}));
}

TEST_F(XenbusKeysTest, AMissingMacAddressIsENOENT) {
  Result<MacAddress> mac = xen::ReadMac(*client_, "device/vif/0/mac");
  ASSERT_FALSE(mac.ok());
  EXPECT_EQ(mac.error().code, ENOENT);
  EXPECT_EQ(mac.error().message, "xenbus: device/vif/0/mac: no MAC address");
}

TEST_F(XenbusKeysTest, AMalformedMacAddressIsEPROTOQuotingIt) {
  for (const char* bad : {"", "00:16:3e:ab:cd", "00:16:3e:ab:cd:ef:01", "00-16-3e-ab-cd-ef",
                          "0:16:3e:ab:cd:eff", "00:16:3e:ab:cd:eg", "00:16:3e:ab:cd:e",
                          " 00:16:3e:ab:cd:ef", "00:16:3e:ab:cd:ef ", "0016.3eab.cdef",
                          "+0:16:3e:ab:cd:ef"}) {
    SCOPED_TRACE(std::string("mac '") + bad + "'");
    xenstored_.Put("device/vif/0/mac", bad);
    Result<MacAddress> mac = xen::ReadMac(*client_, "device/vif/0/mac");
    ASSERT_FALSE(mac.ok());
    EXPECT_EQ(mac.error().code, EPROTO);
    EXPECT_EQ(mac.error().message, std::string("xenbus: device/vif/0/mac is '") + bad +
                                       "', not a MAC address (aa:bb:cc:dd:ee:ff)");
  }
}

// The frontend's keys, in one transaction.

TEST_F(XenbusKeysTest, WritesAllKeysUnderTheDeviceInOneTransaction) {
  Keys keys = {{"ring-ref", "8"}, {"event-channel", "12"}, {"queue-0/tx-ring-ref", "9"},
               {"protocol", "x86_64-abi"}};
  Result<void> r = xen::WriteFrontendKeys(*client_, device_, keys);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(Node("device/vbd/768/ring-ref"), "8");
  EXPECT_EQ(Node("device/vbd/768/event-channel"), "12");
  EXPECT_EQ(Node("device/vbd/768/queue-0/tx-ring-ref"), "9");
  EXPECT_EQ(Node("device/vbd/768/protocol"), "x86_64-abi");
  EXPECT_EQ(xenstored_.writes.size(), 4u);
}

TEST_F(XenbusKeysTest, AConflictingCommitIsRetriedAndTheKeysLandOnce) {
  xenstored_.eagain_commits = 2;
  Keys keys = {{"ring-ref", "8"}, {"event-channel", "12"}};
  Result<void> r = xen::WriteFrontendKeys(*client_, device_, keys);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(xenstored_.eagain_commits, 0);
  EXPECT_EQ(xenstored_.writes.size(), 6u);   // three attempts, two keys each
  EXPECT_EQ(Node("device/vbd/768/ring-ref"), "8");
  EXPECT_EQ(Node("device/vbd/768/event-channel"), "12");
}

TEST_F(XenbusKeysTest, ConflictsWithoutEndGiveUpNamingTheDeviceAndWriteNothing) {
  xenstored_.eagain_commits = 100;
  Keys keys = {{"ring-ref", "8"}};
  Result<void> r = xen::WriteFrontendKeys(*client_, device_, keys);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EAGAIN);
  EXPECT_EQ(r.error().message.rfind("xenbus: device/vbd/768: publishing its keys failed: "
                                    "xenstore: transaction gave up after 10 attempts", 0),
            0u) << r.error().message;
  EXPECT_EQ(Node("device/vbd/768/ring-ref"), std::nullopt);
}

TEST_F(XenbusKeysTest, AKeyThatIsNotRelativeIsEINVALAndNothingIsWritten) {
  for (const char* bad : {"", "/ring-ref", "ring-ref/", "a//b", "../vif/0/ring-ref", ".",
                          "queue-0/../x"}) {
    SCOPED_TRACE(std::string("key '") + bad + "'");
    Keys keys = {{"ring-ref", "8"}, {bad, "1"}};
    Result<void> r = xen::WriteFrontendKeys(*client_, device_, keys);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_EQ(r.error().message, std::string("xenbus: device/vbd/768: '") + bad +
                                     "' is not a key relative to the device");
  }
  EXPECT_EQ(xenstored_.requests, 0u);
}

}  // namespace
}  // namespace skiff
