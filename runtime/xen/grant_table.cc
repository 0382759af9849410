#include "runtime/xen/grant_table.h"

#include <errno.h>

namespace skiff::xen {
namespace {

const char* StateName(GrantTable::EntryState state) {
  switch (state) {
    case GrantTable::EntryState::kFree: return "free";
    case GrantTable::EntryState::kHeld: return "held";
    case GrantTable::EntryState::kGranted: return "granted";
  }
  return "invalid";
}

}  // namespace

bool GrantTable::Grow() {
  if (frames_.size() >= max_frames_) return false;
  uint32_t index = static_cast<uint32_t>(frames_.size());
  grant_entry_v1_t* entries = map_(arg_, index);
  if (entries == nullptr) return false;
  frames_.push_back(entries);
  // The first entries are reserved for the toolstack (console, xenstore): never free.
  states_.resize(states_.size() + kEntriesPerFrame, EntryState::kHeld);
  grant_ref_t first = index == 0 ? GNTTAB_NR_RESERVED_ENTRIES : index * kEntriesPerFrame;
  for (grant_ref_t ref = (index + 1) * kEntriesPerFrame; ref-- > first;) {
    states_[ref] = EntryState::kFree;
    free_.push_back({ref});
  }
  return true;
}

GrantTable::EntryState GrantTable::state(GrantRef ref) const {
  return ref.value < states_.size() ? states_[ref.value] : EntryState::kFree;
}

Result<void> GrantTable::Expect(GrantRef ref, EntryState expected, const char* what) const {
  if (ref.value < GNTTAB_NR_RESERVED_ENTRIES || ref.value >= states_.size()) {
    return MakeError(EINVAL, "grant: %s of reference %u, which is not one of this table's",
                     what, ref.value);
  }
  if (states_[ref.value] != expected) {
    return MakeError(EINVAL, "grant: %s of reference %u, which is %s, not %s", what, ref.value,
                     StateName(states_[ref.value]), StateName(expected));
  }
  return {};
}

Result<void> GrantTable::Reserve(std::span<GrantRef> refs) {
  while (free_.size() < refs.size()) {
    if (!Grow()) {
      return MakeError(ENOSPC,
                       "grant: %zu references wanted, %zu free; the rest of the %u entries of "
                       "%u frames are in use",
                       refs.size(), free_.size(),
                       frames() * kEntriesPerFrame - GNTTAB_NR_RESERVED_ENTRIES, frames());
    }
  }
  for (GrantRef& ref : refs) {
    ref = free_.back();
    free_.pop_back();
    states_[ref.value] = EntryState::kHeld;
  }
  return {};
}

Result<void> GrantTable::Grant(GrantRef ref, DomId domid, Gfn gfn, bool readonly) {
  TRY(Expect(ref, EntryState::kHeld, "grant"));
  if (gfn.value > UINT32_MAX) {
    return MakeError(EINVAL, "grant: frame 0x%lx is beyond what a v1 grant can name",
                     static_cast<unsigned long>(gfn.value));
  }
  grant_entry_v1_t& e = Entry(ref);
  e.domid = domid.value;
  e.frame = static_cast<uint32_t>(gfn.value);
  // The domain and frame must be visible before the flags that make the entry valid.
  uint16_t flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
  __atomic_store_n(&e.flags, flags, __ATOMIC_RELEASE);
  states_[ref.value] = EntryState::kGranted;
  return {};
}

Result<GrantRef> GrantTable::Offer(DomId domid, Gfn gfn, bool readonly) {
  GrantRef ref;
  TRY(Reserve({&ref, 1}));
  if (Result<void> granted = Grant(ref, domid, gfn, readonly); !granted) {
    (void)Release(ref);
    return granted.error();
  }
  return ref;
}

Result<void> GrantTable::Revoke(GrantRef ref) {
  TRY(Expect(ref, EntryState::kGranted, "revoke"));
  grant_entry_v1_t& e = Entry(ref);
  uint16_t flags = __atomic_load_n(&e.flags, __ATOMIC_ACQUIRE);
  do {
    if (flags & (GTF_reading | GTF_writing)) {
      return MakeError(EBUSY, "grant: reference %u is still mapped by domain %u", ref.value,
                       e.domid);
    }
  } while (!__atomic_compare_exchange_n(&e.flags, &flags, uint16_t{0}, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE));
  states_[ref.value] = EntryState::kHeld;
  return {};
}

Result<void> GrantTable::Release(GrantRef ref) {
  TRY(Expect(ref, EntryState::kHeld, "release"));
  states_[ref.value] = EntryState::kFree;
  free_.push_back(ref);
  space_.WakeOne();
  return {};
}

Result<void> GrantTable::End(GrantRef ref) {
  TRY(Revoke(ref));
  return Release(ref);
}

}  // namespace skiff::xen
