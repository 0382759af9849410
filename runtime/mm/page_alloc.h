// The physical page allocator: one bit per page frame over a range of frame numbers.
// Portable (built and tested on the host). Not thread-safe: event-loop context only.
#ifndef SKIFF_RUNTIME_MM_PAGE_ALLOC_H_
#define SKIFF_RUNTIME_MM_PAGE_ALLOC_H_

#include <stddef.h>
#include <stdint.h>

#include <optional>

namespace skiff::mm {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr int kPageShift = 12;

class PageAllocator {
 public:
  // Bytes of bitmap needed to track |count| frames.
  static constexpr size_t BitmapBytes(uint64_t count) { return (count + 63) / 64 * 8; }

  // Tracks frames [first, first + count) in |bitmap| (BitmapBytes(count) bytes).
  // Every frame starts out in use; Free() the usable ones.
  void Init(uint64_t first, uint64_t count, uint64_t* bitmap);

  // Marks frames free / in use. Frames outside the tracked range are ignored.
  void Free(uint64_t frame, uint64_t n);
  void Reserve(uint64_t frame, uint64_t n);

  // Takes |n| contiguous free frames, searching from the top of memory down (so that the
  // heap, which grows up from the bottom, meets it last). Returns the first frame, or
  // nothing when no run of |n| free frames exists.
  std::optional<uint64_t> Allocate(uint64_t n);

  // Takes frames [frame, frame + n) if every one of them is free; else changes nothing.
  bool Claim(uint64_t frame, uint64_t n);

  bool IsFree(uint64_t frame) const;
  uint64_t free_frames() const { return free_; }
  uint64_t first() const { return first_; }
  uint64_t end() const { return first_ + count_; }

 private:
  void Set(uint64_t index, bool free);

  uint64_t first_ = 0;
  uint64_t count_ = 0;
  uint64_t free_ = 0;
  uint64_t* bits_ = nullptr;   // bit set: the frame is free
};

}  // namespace skiff::mm

#endif  // SKIFF_RUNTIME_MM_PAGE_ALLOC_H_
