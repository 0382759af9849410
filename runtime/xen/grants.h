// The grant table on Xen (skiff/grant.h is the API).
#ifndef SKIFF_RUNTIME_XEN_GRANTS_H_
#define SKIFF_RUNTIME_XEN_GRANTS_H_

#include "runtime/xen/start_info.h"
#include "skiff/xen_types.h"

namespace skiff::xen {

// Asks Xen how large the table may grow and places its frames above the memory map. Without
// a grant table (Xen refuses the query), GrantedPage::Offer fails with ENODEV.
void InitGrants(const StartInfo& info);

class GrantTable;
// The guest's table, for drivers that manage references themselves; null without one.
GrantTable* Grants();
// Ends |ref|'s grant and frees |page| (a page of the allocator, or null); while the other
// domain still maps it, both wait, and go at a later offer once it lets go.
void EndGrantAndFree(GrantRef ref, void* page);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_GRANTS_H_
