#include "runtime/mm/page_alloc.h"

#include <string.h>

namespace skiff::mm {

void PageAllocator::Init(uint64_t first, uint64_t count, uint64_t* bitmap) {
  first_ = first;
  count_ = count;
  free_ = 0;
  bits_ = bitmap;
  memset(bits_, 0, BitmapBytes(count));
}

bool PageAllocator::IsFree(uint64_t frame) const {
  if (frame < first_ || frame >= end()) return false;
  uint64_t i = frame - first_;
  return (bits_[i / 64] >> (i % 64)) & 1;
}

void PageAllocator::Set(uint64_t i, bool free) {
  uint64_t mask = uint64_t{1} << (i % 64);
  bool was_free = bits_[i / 64] & mask;
  if (was_free == free) return;
  if (free) {
    bits_[i / 64] |= mask;
    free_++;
  } else {
    bits_[i / 64] &= ~mask;
    free_--;
  }
}

void PageAllocator::Free(uint64_t frame, uint64_t n) {
  for (uint64_t f = frame; f < frame + n; f++) {
    if (f >= first_ && f < end()) Set(f - first_, true);
  }
}

void PageAllocator::Reserve(uint64_t frame, uint64_t n) {
  for (uint64_t f = frame; f < frame + n; f++) {
    if (f >= first_ && f < end()) Set(f - first_, false);
  }
}

std::optional<uint64_t> PageAllocator::Allocate(uint64_t n) {
  if (n == 0 || n > free_) return std::nullopt;
  uint64_t run = 0;
  for (uint64_t i = count_; i-- > 0;) {
    if (bits_[i / 64] == 0) {   // a whole word in use: skip to the word below
      run = 0;
      i -= i % 64;
      continue;
    }
    run = IsFree(first_ + i) ? run + 1 : 0;
    if (run == n) {
      Reserve(first_ + i, n);
      return first_ + i;
    }
  }
  return std::nullopt;
}

bool PageAllocator::Claim(uint64_t frame, uint64_t n) {
  for (uint64_t f = frame; f < frame + n; f++) {
    if (!IsFree(f)) return false;
  }
  Reserve(frame, n);
  return true;
}

}  // namespace skiff::mm
