// The pvclock arithmetic that turns a vcpu_time_info record and a TSC reading into time.
#include "runtime/xen/pvclock.h"

#include <gtest/gtest.h>

namespace skiff::xen {
namespace {

// A 2 GHz TSC: half a nanosecond a tick, as Xen encodes it (mul = 2^31, shift 0).
constexpr PvclockRecord k2GHz = {.tsc_timestamp = 1'000'000, .system_time = 5'000'000'000,
                                 .mul = 1u << 31, .shift = 0};

TEST(Pvclock, ScalesTicksWithMulAndShift) {
  EXPECT_EQ(PvclockScale(2'000, k2GHz), 1'000u);
  PvclockRecord shifted = k2GHz;
  shifted.shift = -1;  // 4 GHz
  EXPECT_EQ(PvclockScale(4'000, shifted), 1'000u);
  shifted.shift = 2;   // 500 MHz
  EXPECT_EQ(PvclockScale(500, shifted), 1'000u);
}

TEST(Pvclock, LargeIntervalsDoNotOverflow) {
  // An hour at 2 GHz: the product with mul needs more than 64 bits.
  EXPECT_EQ(PvclockScale(7'200'000'000'000ull, k2GHz), 3'600'000'000'000ull);
}

TEST(Pvclock, TimeRunsFromTheRecordsStamp) {
  EXPECT_EQ(PvclockTime(k2GHz, k2GHz.tsc_timestamp), 5'000'000'000u);
  EXPECT_EQ(PvclockTime(k2GHz, k2GHz.tsc_timestamp + 20'000), 5'000'010'000u);
}

TEST(Pvclock, TscBehindTheStampIsSlightlyEarlierNotCenturiesLater) {
  EXPECT_EQ(PvclockTime(k2GHz, k2GHz.tsc_timestamp - 2'000), 4'999'999'000u);
  EXPECT_EQ(PvclockTime(k2GHz, 0), 4'999'500'000u);
  PvclockRecord early = k2GHz;
  early.system_time = 100;
  EXPECT_EQ(PvclockTime(early, 0), 0u);
}

// Xen stamps a record with the guest's TSC, which can start near zero after the stamp was
// taken: the stamp then reads as a number just below 2^64, and the TSC counts on past zero.
TEST(Pvclock, TscCountsOnPastAStampBelowZero) {
  PvclockRecord wrapped = k2GHz;
  wrapped.tsc_timestamp = 0 - uint64_t{4'000};
  EXPECT_EQ(PvclockTime(wrapped, 0), 5'000'002'000u);
  EXPECT_EQ(PvclockTime(wrapped, 6'000), 5'000'005'000u);
  EXPECT_EQ(PvclockTime(wrapped, wrapped.tsc_timestamp - 2'000), 4'999'999'000u);
}

}  // namespace
}  // namespace skiff::xen
