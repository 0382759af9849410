#include "runtime/xen/grant_table.h"

#include <errno.h>

namespace skiff::xen {

bool GrantTable::Grow() {
  if (frames_.size() >= max_frames_) return false;
  uint32_t index = static_cast<uint32_t>(frames_.size());
  grant_entry_v1_t* entries = map_(arg_, index);
  if (entries == nullptr) return false;
  frames_.push_back(entries);
  // The first entries are reserved for the toolstack (console, xenstore).
  grant_ref_t first = index == 0 ? GNTTAB_NR_RESERVED_ENTRIES : index * kEntriesPerFrame;
  for (grant_ref_t ref = (index + 1) * kEntriesPerFrame; ref-- > first;) free_.push_back({ref});
  return true;
}

Result<GrantRef> GrantTable::Offer(DomId domid, Gfn gfn, bool readonly) {
  if (gfn.value > UINT32_MAX) {
    return MakeError(EINVAL, "grant: frame 0x%lx is beyond what a v1 grant can name",
                     static_cast<unsigned long>(gfn.value));
  }
  if (free_.empty() && !Grow()) {
    return MakeError(ENOSPC, "grant: all %u entries of %u frames are in use",
                     frames() * kEntriesPerFrame - GNTTAB_NR_RESERVED_ENTRIES, frames());
  }
  GrantRef ref = free_.back();
  free_.pop_back();
  grant_entry_v1_t& e = Entry(ref);
  e.domid = domid.value;
  e.frame = static_cast<uint32_t>(gfn.value);
  // The domain and frame must be visible before the flags that make the entry valid.
  uint16_t flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
  __atomic_store_n(&e.flags, flags, __ATOMIC_RELEASE);
  return ref;
}

bool GrantTable::End(GrantRef ref) {
  grant_entry_v1_t& e = Entry(ref);
  uint16_t flags = __atomic_load_n(&e.flags, __ATOMIC_ACQUIRE);
  do {
    if (flags & (GTF_reading | GTF_writing)) return false;   // still mapped
  } while (!__atomic_compare_exchange_n(&e.flags, &flags, uint16_t{0}, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE));
  free_.push_back(ref);
  space_.WakeOne();
  return true;
}

}  // namespace skiff::xen
