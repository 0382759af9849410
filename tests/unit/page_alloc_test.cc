#include "runtime/mm/page_alloc.h"

#include <gtest/gtest.h>

#include <vector>

namespace skiff::mm {
namespace {

class PageAllocatorTest : public ::testing::Test {
 protected:
  // 200 frames starting at frame 100, all free.
  void SetUp() override {
    bitmap_.resize(PageAllocator::BitmapBytes(200) / 8);
    pages_.Init(100, 200, bitmap_.data());
    pages_.Free(100, 200);
  }
  std::vector<uint64_t> bitmap_;
  PageAllocator pages_;
};

TEST(PageAllocatorInit, EveryFrameStartsInUse) {
  std::vector<uint64_t> bitmap(PageAllocator::BitmapBytes(70) / 8, ~uint64_t{0});
  PageAllocator pages;
  pages.Init(0, 70, bitmap.data());
  EXPECT_EQ(pages.free_frames(), 0u);
  EXPECT_FALSE(pages.Allocate(1));
}

TEST_F(PageAllocatorTest, AllocatesFromTheTopDown) {
  EXPECT_EQ(pages_.Allocate(1), 299u);
  EXPECT_EQ(pages_.Allocate(2), 297u);
  EXPECT_EQ(pages_.free_frames(), 197u);
}

TEST_F(PageAllocatorTest, FindsAContiguousRunAcrossWords) {
  pages_.Reserve(100, 200);
  pages_.Free(120, 10);   // frames 20..29 of the range
  pages_.Free(160, 8);    // frames 60..67: straddles the first word boundary
  EXPECT_EQ(pages_.Allocate(8), 160u);
  EXPECT_EQ(pages_.Allocate(10), 120u);
  EXPECT_FALSE(pages_.Allocate(1));
}

TEST_F(PageAllocatorTest, FailsCleanlyWhenNoRunIsLongEnough) {
  pages_.Reserve(150, 1);   // splits the free space into 50 and 149 frames
  EXPECT_FALSE(pages_.Allocate(150));
  EXPECT_EQ(pages_.free_frames(), 199u);
  EXPECT_TRUE(pages_.Allocate(149));
  EXPECT_FALSE(pages_.Allocate(0));
}

TEST_F(PageAllocatorTest, ClaimTakesAllOrNothing) {
  pages_.Reserve(105, 1);
  EXPECT_FALSE(pages_.Claim(100, 10));
  EXPECT_TRUE(pages_.IsFree(100));
  EXPECT_TRUE(pages_.Claim(106, 10));
  EXPECT_FALSE(pages_.IsFree(110));
  EXPECT_FALSE(pages_.Claim(295, 10));   // runs past the end
}

TEST_F(PageAllocatorTest, FreeAndReserveIgnoreFramesOutsideTheRange) {
  pages_.Free(0, 100);
  pages_.Reserve(300, 50);
  EXPECT_EQ(pages_.free_frames(), 200u);
  EXPECT_FALSE(pages_.IsFree(99));
  EXPECT_FALSE(pages_.IsFree(300));
}

TEST_F(PageAllocatorTest, DoubleFreeDoesNotCountTwice) {
  std::optional<uint64_t> f = pages_.Allocate(1);
  ASSERT_TRUE(f);
  pages_.Free(*f, 1);
  pages_.Free(*f, 1);
  EXPECT_EQ(pages_.free_frames(), 200u);
}

}  // namespace
}  // namespace skiff::mm
