// Grant references (the v1 grant table): which of our pages another domain may map or copy.
// [xen/grant_table.h] Portable: the guest maps the table's frames with XENMAPSPACE_grant_table
// (runtime/xen/grants.cc); the unit tests hand it plain memory.
//
// Each entry is in exactly one state, and every change is checked:
//   free --Reserve--> held --Grant--> granted --Revoke--> held --Release--> free
// A held reference belongs to a driver without giving any access, so that a multi-segment
// request can take all its references at once, and a pool can point one reference at
// another frame (Revoke, then Grant) without returning it.
#ifndef SKIFF_RUNTIME_XEN_GRANT_TABLE_H_
#define SKIFF_RUNTIME_XEN_GRANT_TABLE_H_

#include <stdint.h>

#include <span>
#include <vector>

#include "runtime/xen/xen.h"
extern "C" {
#include <xen/grant_table.h>
}
#include "skiff/result.h"
#include "skiff/sched.h"
#include "skiff/xen_types.h"

namespace skiff::xen {

static_assert(sizeof(grant_entry_v1_t) == 8);

class GrantTable {
 public:
  static constexpr uint32_t kEntriesPerFrame = 4096 / sizeof(grant_entry_v1_t);
  enum class EntryState : uint8_t { kFree, kHeld, kGranted };

  // Maps frame |index| of the table and returns its entries, or null when Xen refuses.
  using MapFrame = grant_entry_v1_t* (*)(void* arg, uint32_t index);

  // Frames are mapped on demand, up to |max_frames|.
  GrantTable(MapFrame map, void* arg, uint32_t max_frames)
      : map_(map), arg_(arg), max_frames_(max_frames) {}

  // Reserve(1), then Grant: lets |domid| map (or copy) frame |gfn|, read-only if |readonly|.
  Result<GrantRef> Offer(DomId domid, Gfn gfn, bool readonly);

  // Holds |refs.size()| free references, all or none: ENOSPC (and nothing held) when the
  // table cannot give that many; wait on space() and try again.
  Result<void> Reserve(std::span<GrantRef> refs);

  // Gives |domid| access to |gfn| through |ref|, which must be held (EINVAL otherwise).
  Result<void> Grant(GrantRef ref, DomId domid, Gfn gfn, bool readonly);

  // Ends the access that |ref| gives and keeps it held. EBUSY, with the access left as it
  // is, while the other domain still has the page mapped: the page must not be reused until
  // Revoke succeeds. EINVAL if |ref| is not granted.
  Result<void> Revoke(GrantRef ref);

  // Returns held |ref| to the table (EINVAL if it is not held) and wakes one waiter.
  Result<void> Release(GrantRef ref);

  // Revoke, then Release. Ending a reference that is not granted is refused (EINVAL).
  Result<void> End(GrantRef ref);

  EntryState state(GrantRef ref) const;

  // Woken (one waiter) each time a reference is released.
  WaitQueue& space() { return space_; }
  uint32_t frames() const { return static_cast<uint32_t>(frames_.size()); }
  size_t free_entries() const { return free_.size(); }

 private:
  grant_entry_v1_t& Entry(GrantRef ref) {
    return frames_[ref.value / kEntriesPerFrame][ref.value % kEntriesPerFrame];
  }
  // EINVAL unless |ref| is a reference of the table in state |expected|.
  Result<void> Expect(GrantRef ref, EntryState expected, const char* what) const;
  bool Grow();

  MapFrame map_;
  void* arg_;
  uint32_t max_frames_;
  std::vector<grant_entry_v1_t*> frames_;
  std::vector<EntryState> states_;   // by reference
  std::vector<GrantRef> free_;
  WaitQueue space_;
};

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_GRANT_TABLE_H_
