// The grant reference allocator over v1 entries in plain memory, standing in for the frames
// that Xen maps into the guest.
#include "runtime/xen/grant_table.h"

#include <errno.h>

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/fake_platform.h"

namespace skiff::xen {
namespace {

constexpr uint32_t kPerFrame = GrantTable::kEntriesPerFrame;
constexpr uint32_t kFirstFrameRefs = kPerFrame - GNTTAB_NR_RESERVED_ENTRIES;

// Frames of entries that "Xen" maps on request, up to a limit of its own.
struct Frames {
  uint32_t xen_limit = 64;
  std::vector<std::unique_ptr<grant_entry_v1_t[]>> mapped;

  static grant_entry_v1_t* Map(void* arg, uint32_t index) {
    auto* self = static_cast<Frames*>(arg);
    if (index >= self->xen_limit || index != self->mapped.size()) return nullptr;
    self->mapped.emplace_back(new grant_entry_v1_t[kPerFrame]());
    return self->mapped.back().get();
  }
  grant_entry_v1_t& entry(GrantRef ref) {
    return mapped[ref.value / kPerFrame][ref.value % kPerFrame];
  }
};

TEST(GrantTable, OfferFillsTheEntryAndSkipsTheReservedOnes) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 4);
  Result<GrantRef> ref = table.Offer(DomId{7}, Gfn{0x1234}, false);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_GE(ref->value, GNTTAB_NR_RESERVED_ENTRIES);
  grant_entry_v1_t& e = frames.entry(*ref);
  EXPECT_EQ(e.domid, 7);
  EXPECT_EQ(e.frame, 0x1234u);
  EXPECT_EQ(e.flags, GTF_permit_access);
  Result<GrantRef> readonly = table.Offer(DomId{7}, Gfn{0x1235}, true);
  ASSERT_TRUE(readonly.ok());
  EXPECT_EQ(frames.entry(*readonly).flags, GTF_permit_access | GTF_readonly);
  for (grant_ref_t r = 0; r < GNTTAB_NR_RESERVED_ENTRIES; r++) {
    EXPECT_EQ(frames.mapped[0][r].flags, 0) << "reserved entry " << r << " was used";
  }
}

TEST(GrantTable, FramesAreMappedOnlyWhenNeeded) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 4);
  EXPECT_EQ(table.frames(), 0u);
  for (uint32_t i = 0; i < kFirstFrameRefs; i++) {
    ASSERT_TRUE(table.Offer(DomId{1}, Gfn{i}, false).ok());
  }
  EXPECT_EQ(table.frames(), 1u);
  Result<GrantRef> next = table.Offer(DomId{1}, Gfn{99}, false);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(table.frames(), 2u);
  EXPECT_EQ(next->value / kPerFrame, 1u);
}

TEST(GrantTable, FullTableIsEnospcWithAMessage) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 2);
  for (uint32_t i = 0; i < kFirstFrameRefs + kPerFrame; i++) {
    ASSERT_TRUE(table.Offer(DomId{1}, Gfn{i}, false).ok());
  }
  Result<GrantRef> full = table.Offer(DomId{1}, Gfn{1}, false);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ENOSPC);
  EXPECT_NE(full.error().message.find("in use"), std::string::npos) << full.error().message;
}

TEST(GrantTable, XenRefusingAFrameIsEnospc) {
  Frames frames;
  frames.xen_limit = 1;
  GrantTable table(Frames::Map, &frames, 32);
  for (uint32_t i = 0; i < kFirstFrameRefs; i++) {
    ASSERT_TRUE(table.Offer(DomId{1}, Gfn{i}, false).ok());
  }
  Result<GrantRef> refused = table.Offer(DomId{1}, Gfn{1}, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ENOSPC);
}

TEST(GrantTable, FramesBeyond32BitsAreRefused) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  Result<GrantRef> ref = table.Offer(DomId{1}, Gfn{uint64_t{1} << 32}, false);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, EINVAL);
}

TEST(GrantTable, EndClearsTheEntryAndTheRefIsReused) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  GrantRef ref = *table.Offer(DomId{3}, Gfn{0x10}, false);
  size_t free_before = table.free_entries();
  EXPECT_TRUE(table.End(ref));
  EXPECT_EQ(frames.entry(ref).flags, 0);
  EXPECT_EQ(table.free_entries(), free_before + 1);
  EXPECT_EQ(*table.Offer(DomId{3}, Gfn{0x11}, false), ref);
}

TEST(GrantTable, EndWhileMappedKeepsTheEntry) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  GrantRef ref = *table.Offer(DomId{3}, Gfn{0x10}, false);
  size_t free_before = table.free_entries();
  for (uint16_t in_use : {uint16_t{GTF_reading}, uint16_t{GTF_writing}}) {
    frames.entry(ref).flags |= in_use;   // what Xen sets while the backend maps it
    EXPECT_FALSE(table.End(ref));
    EXPECT_TRUE(frames.entry(ref).flags & GTF_permit_access);
    EXPECT_EQ(table.free_entries(), free_before);
    frames.entry(ref).flags &= ~in_use;
  }
  EXPECT_TRUE(table.End(ref));
}

// Ending a reference twice used to push it onto the free list twice, so that two later
// offers returned the same reference.
TEST(GrantTable, EndingAReferenceNotInUseIsRefused) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  GrantRef ref = *table.Offer(DomId{3}, Gfn{0x10}, false);
  EXPECT_TRUE(table.End(ref));
  EXPECT_FALSE(table.End(ref));
  Result<GrantRef> a = table.Offer(DomId{3}, Gfn{0x11}, false);
  Result<GrantRef> b = table.Offer(DomId{3}, Gfn{0x12}, false);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(table.End(GrantRef{3})) << "a reference the toolstack reserves";
  EXPECT_FALSE(table.End(GrantRef{100000})) << "a reference beyond the table";
}

TEST(GrantTable, ReserveIsAllOrNothing) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  GrantRef few[3];
  ASSERT_TRUE(table.Reserve(few).ok());
  EXPECT_EQ(table.free_entries(), kFirstFrameRefs - 3);
  for (GrantRef ref : few) EXPECT_EQ(table.state(ref), GrantTable::EntryState::kHeld);
  std::vector<GrantRef> too_many(kFirstFrameRefs - 2);
  Result<void> refused = table.Reserve(too_many);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ENOSPC);
  EXPECT_NE(refused.error().message.find("wanted"), std::string::npos) << refused.error().message;
  EXPECT_EQ(table.free_entries(), kFirstFrameRefs - 3) << "a refused reservation holds nothing";
  std::vector<GrantRef> rest(kFirstFrameRefs - 3);
  EXPECT_TRUE(table.Reserve(rest).ok());
  EXPECT_EQ(table.free_entries(), 0u);
}

TEST(GrantTable, HeldReferencesGiveNoAccessUntilGranted) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  GrantRef ref;
  ASSERT_TRUE(table.Reserve({&ref, 1}).ok());
  EXPECT_EQ(frames.entry(ref).flags, 0);
  EXPECT_FALSE(table.Revoke(ref).ok()) << "nothing to revoke";
  ASSERT_TRUE(table.Grant(ref, DomId{2}, Gfn{0x40}, true).ok());
  EXPECT_EQ(frames.entry(ref).flags, GTF_permit_access | GTF_readonly);
  EXPECT_FALSE(table.Grant(ref, DomId{2}, Gfn{0x41}, true).ok()) << "granted twice";
  EXPECT_FALSE(table.Release(ref).ok()) << "released while granted";
  EXPECT_TRUE(table.End(ref).ok());
  EXPECT_EQ(table.state(ref), GrantTable::EntryState::kFree);
  EXPECT_FALSE(table.Grant(ref, DomId{2}, Gfn{0x41}, true).ok()) << "granted while free";
}

// A pool keeps its reference and points it at another frame.
TEST(GrantTable, RegrantPointsAHeldReferenceAtAnotherFrame) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  GrantRef ref = *table.Offer(DomId{5}, Gfn{0x100}, false);
  size_t free_before = table.free_entries();
  frames.entry(ref).flags |= GTF_writing;   // the backend maps it
  Result<void> busy = table.Revoke(ref);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, EBUSY);
  EXPECT_EQ(frames.entry(ref).frame, 0x100u);
  frames.entry(ref).flags &= ~GTF_writing;
  ASSERT_TRUE(table.Revoke(ref).ok());
  ASSERT_TRUE(table.Grant(ref, DomId{5}, Gfn{0x200}, false).ok());
  EXPECT_EQ(frames.entry(ref).frame, 0x200u);
  EXPECT_EQ(frames.entry(ref).flags, GTF_permit_access);
  EXPECT_EQ(table.free_entries(), free_before) << "the reference never went back to the table";
}

class GrantTableWaitTest : public SchedulerTest {};

// A task that found the table full waits on space() and gets the next freed entry.
TEST_F(GrantTableWaitTest, EndWakesATaskWaitingForSpace) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  std::vector<GrantRef> refs;
  for (uint32_t i = 0; i < kFirstFrameRefs; i++) {
    refs.push_back(*table.Offer(DomId{1}, Gfn{i}, false));
  }
  bool got = false;
  auto waiter = Spawn([&] {
    while (!table.Offer(DomId{1}, Gfn{500}, false).ok()) {
      ASSERT_TRUE(table.space().WaitUntil(Now() + 1000));
    }
    got = true;
  });
  ASSERT_TRUE(waiter.ok());
  Yield();
  EXPECT_FALSE(got);
  EXPECT_TRUE(table.End(refs[0]));
  Join(*waiter);
  EXPECT_TRUE(got);
}

// A task that wants several references waits until enough are free, and takes them at once.
TEST_F(GrantTableWaitTest, AReservationWaitsUntilAllItsReferencesAreFree) {
  Frames frames;
  GrantTable table(Frames::Map, &frames, 1);
  std::vector<GrantRef> all(kFirstFrameRefs);
  ASSERT_TRUE(table.Reserve(all).ok());
  GrantRef wanted[2];
  bool got = false;
  auto waiter = Spawn([&] {
    while (!table.Reserve(wanted).ok()) ASSERT_TRUE(table.space().WaitUntil(Now() + 1000));
    got = true;
  });
  ASSERT_TRUE(waiter.ok());
  Yield();
  ASSERT_TRUE(table.Release(all[0]).ok());
  Yield();
  EXPECT_FALSE(got) << "one free reference is not two";
  EXPECT_EQ(table.free_entries(), 1u) << "a failed reservation holds nothing";
  ASSERT_TRUE(table.Release(all[1]).ok());
  Join(*waiter);
  EXPECT_TRUE(got);
  EXPECT_EQ(table.free_entries(), 0u);
}

}  // namespace
}  // namespace skiff::xen
