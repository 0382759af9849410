#include "runtime/xen/xenstore.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/unit/fake_platform.h"
#include "tests/unit/fake_xenstored.h"

namespace skiff {
namespace {

using namespace std::string_literals;
using xen::XenstoreClient;
using xen::XsPermission;
using xen::XsTx;
using Access = XsPermission::Access;

constexpr evtchn_port_t kPort = 5;

// The client as the guest wires it: OnEvent from the xenstore port's handler.
class XsClientTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.ports.SetHandler(EvtchnPort{kPort}, [this] {
      events_++;
      client_->OnEvent();
    });
  }
  void TearDown() override {
    client_.reset();   // joins the watch task, so while the scheduler is current
    xenstored_.Stop();
    SchedulerTest::TearDown();
  }

  std::string MustRead(const std::string& path) {
    Result<std::string> value = client_->Read(path);
    EXPECT_TRUE(value.ok()) << value.error().message;
    return value.ok() ? *value : "";
  }

  FakeXenstored xenstored_{&platform_, kPort};
  std::optional<XenstoreClient> client_{std::in_place, xenstored_.ClientRing()};
  int events_ = 0;
};

TEST_F(XsClientTest, RoundTripsEveryOperation) {
  ASSERT_TRUE(client_->Write("/a/b", "value\0x"s).ok());
  EXPECT_EQ(MustRead("/a/b"), "value\0x"s);
  ASSERT_TRUE(client_->Mkdir("/a/c").ok());
  EXPECT_EQ(MustRead("/a/c"), "");
  Result<std::vector<std::string>> children = client_->Directory("/a");
  ASSERT_TRUE(children.ok()) << children.error().message;
  EXPECT_EQ(*children, (std::vector<std::string>{"b", "c"}));
  Result<std::vector<XsPermission>> perms = client_->GetPermissions("/a/b");
  ASSERT_TRUE(perms.ok()) << perms.error().message;
  EXPECT_EQ(*perms, (std::vector<XsPermission>{{Access::kNone, 0}}));
  std::vector<XsPermission> set = {{Access::kWrite, 0}, {Access::kRead, 7}};
  ASSERT_TRUE(client_->SetPermissions("/a/b", set).ok());
  EXPECT_EQ(xenstored_.nodes["/a/b"].permissions, "w0\0r7\0"s);
  EXPECT_EQ(*client_->GetPermissions("/a/b"), set);
  ASSERT_TRUE(client_->Rm("/a").ok());
  Result<std::string> gone = client_->Read("/a/b");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENOENT);
  EXPECT_EQ(gone.error().message, "xenstore: read of '/a/b' failed: ENOENT");
  EXPECT_GT(xenstored_.kicks, 0u);
  EXPECT_EQ(client_->stats().bad_replies + client_->stats().unknown_replies, 0u);
}

TEST_F(XsClientTest, ArgumentsThatCannotBeEncodedFailBeforeSending) {
  Result<void> written = client_->Write("/a\0b"s, "v");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, EINVAL);
  EXPECT_EQ(client_->Write("/a", std::string(5000, 'v')).error().code, E2BIG);
  EXPECT_EQ(xenstored_.requests, 0u);
}

TEST_F(XsClientTest, RequestsFromSeveralTasksAreMatchedToRepliesOutOfOrder) {
  for (int i = 0; i < 4; i++) {
    xenstored_.nodes["/n" + std::to_string(i)].value = "v" + std::to_string(i);
  }
  xenstored_.hold_replies = true;
  std::vector<std::string> got(4);
  std::vector<Task*> tasks;
  for (int i = 0; i < 4; i++) {
    tasks.push_back(*Spawn([&, i] { got[i] = MustRead("/n" + std::to_string(i)); }));
  }
  while (xenstored_.held() < 4) Yield();
  xenstored_.ReleaseHeld(/*reversed=*/true);
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(got, (std::vector<std::string>{"v0", "v1", "v2", "v3"}));
}

TEST_F(XsClientTest, BothRingsWrapAroundManyTimes) {
  for (int i = 0; i < 300; i++) {
    std::string path = "/wrap/" + std::to_string(i % 7);
    std::string value(static_cast<size_t>((i * 37) % 900 + 1), static_cast<char>('a' + i % 26));
    ASSERT_TRUE(client_->Write(path, value).ok()) << i;
    ASSERT_EQ(MustRead(path), value) << i;
  }
  EXPECT_GT(xenstored_.ring().req_prod, 100u * XENSTORE_RING_SIZE);
  EXPECT_GT(xenstored_.ring().rsp_prod, 100u * XENSTORE_RING_SIZE);
}

TEST_F(XsClientTest, RequestsAndRepliesLargerThanTheRingGoInTurns) {
  std::string value(4000, 'q');
  ASSERT_TRUE(client_->Write("/big", value).ok());
  EXPECT_EQ(MustRead("/big"), value);
}

TEST_F(XsClientTest, AReplyThatComesInPiecesIsReassembled) {
  xenstored_.nodes["/p"].value = std::string(100, 'p');
  xenstored_.reply_chunk = 3;   // splits the header too
  int before = events_;
  EXPECT_EQ(MustRead("/p"), std::string(100, 'p'));
  EXPECT_GE(events_ - before, (16 + 100) / 3);
}

TEST_F(XsClientTest, TransactionRetriesOnEagainThenCommits) {
  xenstored_.nodes["/count"].value = "0";
  xenstored_.eagain_commits = 3;
  int attempts = 0;
  Result<void> done = client_->Transaction([&](XsTx tx) -> Result<void> {
    attempts++;
    Result<std::string> count = client_->Read("/count", tx);
    if (!count) return count.error();
    return client_->Write("/count", std::to_string(std::stoi(*count) + 1), tx);
  });
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(attempts, 4);
  EXPECT_EQ(xenstored_.nodes["/count"].value, "1");
}

TEST_F(XsClientTest, TransactionRetriesAfterAConflictingWrite) {
  int attempts = 0;
  Result<void> done = client_->Transaction([&](XsTx tx) -> Result<void> {
    if (++attempts == 1) {
      EXPECT_TRUE(client_->Write("/other", "x").ok());   // outside the transaction: conflicts
    }
    return client_->Write("/mine", std::to_string(attempts), tx);
  });
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(xenstored_.nodes["/mine"].value, "2");
}

TEST_F(XsClientTest, TransactionGivesUpAfterTheLimitAndTheClientStaysUsable) {
  xenstored_.eagain_commits = 1000;
  int attempts = 0;
  Result<void> done = client_->Transaction([&](XsTx tx) {
    attempts++;
    return client_->Write("/t", "v", tx);
  });
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, EAGAIN);
  EXPECT_EQ(done.error().message,
            "xenstore: transaction gave up after 10 attempts, each ended by EAGAIN (a "
            "conflicting change)");
  EXPECT_EQ(attempts, 10);
  EXPECT_EQ(xenstored_.nodes.count("/t"), 0u);
  ASSERT_TRUE(client_->Write("/t", "plain").ok());
}

TEST_F(XsClientTest, TransactionBodyErrorAbortsAndIsReturned) {
  Result<void> done = client_->Transaction([&](XsTx tx) -> Result<void> {
    EXPECT_TRUE(client_->Write("/aborted", "v", tx).ok());
    return MakeError(EINVAL, "body failed");
  });
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message, "body failed");
  EXPECT_EQ(xenstored_.nodes.count("/aborted"), 0u);
}

TEST_F(XsClientTest, WatchesDispatchByTokenInTheWatchTaskUntilUnwatched) {
  std::vector<std::string> a, b;
  std::string task_name;
  Result<xen::XsWatchId> wa = client_->Watch("/a", [&](std::string_view path) {
    a.emplace_back(path);
    task_name = TaskName(CurrentTask());
  });
  ASSERT_TRUE(wa.ok()) << wa.error().message;
  Result<xen::XsWatchId> wb = client_->Watch("/b", [&](std::string_view path) {
    b.emplace_back(path);
  });
  ASSERT_TRUE(wb.ok()) << wb.error().message;
  ASSERT_TRUE(client_->Write("/a/x", "1").ok());
  ASSERT_TRUE(client_->Write("/b", "2").ok());
  ASSERT_TRUE(client_->Write("/c", "3").ok());
  Yield();   // lets the watch task run
  EXPECT_EQ(a, (std::vector<std::string>{"/a", "/a/x"}));   // once when set, then the write
  EXPECT_EQ(b, (std::vector<std::string>{"/b", "/b"}));
  EXPECT_EQ(task_name, "xenstore-watch");
  ASSERT_TRUE(client_->Unwatch(*wa).ok());
  EXPECT_EQ(xenstored_.watch_count(), 1u);
  ASSERT_TRUE(client_->Write("/a/y", "4").ok());
  ASSERT_TRUE(client_->Rm("/b").ok());
  Yield();
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(b, (std::vector<std::string>{"/b", "/b", "/b"}));
  EXPECT_EQ(client_->Unwatch(*wa).error().code, EINVAL);
  EXPECT_EQ(client_->stats().unknown_watch_events, 0u);
}

TEST_F(XsClientTest, WatchCallbackCanCallTheClient) {
  std::vector<std::string> values;
  Result<xen::XsWatchId> id = client_->Watch("/v", [&](std::string_view path) {
    Result<std::string> value = client_->Read(path);
    values.push_back(value.ok() ? *value : value.error().message);
  });
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(client_->Write("/v", "seen").ok());
  SleepFor(1000000);
  EXPECT_EQ(values,
            (std::vector<std::string>{"xenstore: read of '/v' failed: ENOENT", "seen"}));
}

TEST_F(XsClientTest, ReplyWithAnUnknownIdIsDroppedAndTheCallTimesOut) {
  xenstored_.nodes["/a"].value = "v";
  xenstored_.wrong_req_id = 1;
  Result<std::string> value = client_->Read("/a");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().code, ETIMEDOUT);
  EXPECT_EQ(value.error().message, "xenstore: read of '/a' got no reply in 5000 ms");
  EXPECT_EQ(Now(), 5000000000u);
  EXPECT_EQ(client_->stats().unknown_replies, 1u);
  EXPECT_EQ(MustRead("/a"), "v");
}

TEST_F(XsClientTest, OversizedReplyFailsItsRequestOnly) {
  xenstored_.nodes["/a"].value = "v";
  xenstored_.oversized = 1;
  Result<std::string> value = client_->Read("/a");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().code, EPROTO);
  EXPECT_EQ(value.error().message,
            "xenstore: reply to read of '/a' is 5000 bytes, over the 4096-byte limit");
  EXPECT_EQ(client_->stats().bad_replies, 1u);
  EXPECT_EQ(MustRead("/a"), "v");
}

TEST_F(XsClientTest, ReplyOfTheWrongOrAnUnknownTypeFailsItsRequestOnly) {
  xenstored_.nodes["/a"].value = "v";
  xenstored_.wrong_type = 1;
  EXPECT_EQ(client_->Read("/a").error().message,
            "xenstore: reply to read of '/a' has type XS_WRITE, not XS_READ");
  xenstored_.unknown_type = 1;
  EXPECT_EQ(client_->Write("/a", "w").error().message,
            "xenstore: reply to write of '/a' has unknown type 99");
  EXPECT_EQ(client_->stats().bad_replies, 2u);
  EXPECT_EQ(MustRead("/a"), "w");   // xenstored did the write; only its reply was bad
}

TEST_F(XsClientTest, StrayAndMalformedWatchEventsAreDroppedAndCounted) {
  xenstored_.SendWatchEvent("/x", "nobody");
  xsd_sockmsg header = {XS_WATCH_EVENT, 0, 0, 5};
  xenstored_.SendRaw(std::string(reinterpret_cast<const char*>(&header), sizeof(header)) +
                     "only\0"s);
  header.len = 6000;
  xenstored_.SendRaw(std::string(reinterpret_cast<const char*>(&header), sizeof(header)) +
                     std::string(6000, 'z'));
  xenstored_.nodes["/a"].value = "v";
  EXPECT_EQ(MustRead("/a"), "v");
  EXPECT_EQ(client_->stats().unknown_watch_events, 1u);
  EXPECT_EQ(client_->stats().bad_watch_events, 2u);
  EXPECT_FALSE(client_->broken());
}

TEST_F(XsClientTest, StalledXenstoredTimesOutAndALateReplyIsDropped) {
  xenstored_.nodes["/a"].value = "v";
  xenstored_.stalled = true;
  Result<std::string> value = client_->Read("/a");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().code, ETIMEDOUT);
  xenstored_.stalled = false;
  EXPECT_EQ(MustRead("/a"), "v");   // after the late reply to the first read
  EXPECT_EQ(client_->stats().unknown_replies, 1u);
}

TEST_F(XsClientTest, RingThatStallsPartWayThroughARequestBreaksTheClient) {
  xenstored_.stalled = true;
  Result<void> written = client_->Write("/big", std::string(3000, 'b'));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().message,
            "xenstore: xenstored stopped reading the request ring part way through write of "
            "'/big'");
  EXPECT_TRUE(client_->broken());
  xenstored_.stalled = false;
  EXPECT_EQ(client_->Read("/a").error().message, written.error().message);
}

TEST_F(XsClientTest, ProducerIndexRunningAheadFailsPendingRequestsAndBreaksTheClient) {
  xenstored_.hold_replies = true;
  std::optional<Result<std::string>> pending;
  Task* task = *Spawn([&] { pending = client_->Read("/a"); });
  while (xenstored_.held() < 1) Yield();
  xenstored_.RunAhead();
  Join(task);
  ASSERT_FALSE(pending->ok());
  EXPECT_EQ(pending->error().code, EPROTO);
  EXPECT_EQ(pending->error().message,
            "xenstore: the reply ring's producer index is 1025 bytes ahead of the consumer, "
            "over the 1024-byte ring");
  EXPECT_TRUE(client_->broken());
  EXPECT_EQ(client_->Write("/a", "v").error().message, pending->error().message);
}

}  // namespace
}  // namespace skiff
