// The console's and xenstore's byte rings: copies with the wrap, bounded by the other index.
#include "runtime/xen/byte_ring.h"

#include <gtest/gtest.h>

#include <string>

namespace skiff::xen {
namespace {

TEST(ByteRing, PutWrapsAndStopsWhenFull) {
  char ring[8] = {};
  // The producer at 6 (0xfffffffe + 8 wraps the 32-bit index too), the consumer at 4.
  uint32_t cons = 0xfffffffc, prod = 0xfffffffe;
  EXPECT_EQ(ByteRingPut(ring, 8, prod, cons, "abcdefgh"), 6u);
  EXPECT_EQ(std::string(ring, 8), std::string("cdef\0\0ab", 8));
  EXPECT_EQ(ByteRingPut(ring, 8, prod + 6, cons, "x"), 0u) << "full";
  EXPECT_EQ(ByteRingPut(ring, 8, prod, prod + 1, "x"), 0u) << "a consumer past the producer";
}

TEST(ByteRing, GetWrapsAndTakesAtMostTheRingOrTheBuffer) {
  char ring[8] = {'c', 'd', 'e', 'f', '-', '-', 'a', 'b'};
  char out[16] = {};
  EXPECT_EQ(ByteRingGet(ring, 8, 6, 12, out, sizeof(out)), 6u);
  EXPECT_EQ(std::string(out, 6), "abcdef");
  EXPECT_EQ(ByteRingGet(ring, 8, 6, 12, out, 3), 3u);
  EXPECT_EQ(ByteRingGet(ring, 8, 0, 1000, out, sizeof(out)), 8u) << "never more than the ring";
}

}  // namespace
}  // namespace skiff::xen
