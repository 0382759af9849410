// Grant references (the v1 grant table): which of our pages another domain may map or copy.
// [xen/grant_table.h] Portable: the guest maps the table's frames with XENMAPSPACE_grant_table
// (runtime/xen/grants.cc); the unit tests hand it plain memory.
#ifndef SKIFF_RUNTIME_XEN_GRANT_TABLE_H_
#define SKIFF_RUNTIME_XEN_GRANT_TABLE_H_

#include <stdint.h>

#include <vector>

#include "runtime/xen/xen.h"
extern "C" {
#include <xen/grant_table.h>
}
#include "skiff/result.h"
#include "skiff/sched.h"
#include "skiff/xen_types.h"

namespace skiff::xen {

class GrantTable {
 public:
  static constexpr uint32_t kEntriesPerFrame = 4096 / sizeof(grant_entry_v1_t);

  // Maps frame |index| of the table and returns its entries, or null when Xen refuses.
  using MapFrame = grant_entry_v1_t* (*)(void* arg, uint32_t index);

  // Frames are mapped on demand, up to |max_frames|.
  GrantTable(MapFrame map, void* arg, uint32_t max_frames)
      : map_(map), arg_(arg), max_frames_(max_frames) {}

  // Lets |domid| map (or copy) frame |gfn|, read-only if |readonly|. Fails with ENOSPC when
  // every entry the table can hold is in use: wait on space() and try again.
  Result<GrantRef> Offer(DomId domid, Gfn gfn, bool readonly);

  // Ends the access that |ref| grants. Returns false, and keeps the entry, while the other
  // domain still has the page mapped: the page must not be reused until End succeeds.
  bool End(GrantRef ref);

  // Woken (one waiter) each time an entry is freed.
  WaitQueue& space() { return space_; }
  uint32_t frames() const { return static_cast<uint32_t>(frames_.size()); }
  size_t free_entries() const { return free_.size(); }

 private:
  grant_entry_v1_t& Entry(GrantRef ref) {
    return frames_[ref.value / kEntriesPerFrame][ref.value % kEntriesPerFrame];
  }
  bool Grow();

  MapFrame map_;
  void* arg_;
  uint32_t max_frames_;
  std::vector<grant_entry_v1_t*> frames_;
  std::vector<GrantRef> free_;
  WaitQueue space_;
};

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_GRANT_TABLE_H_
