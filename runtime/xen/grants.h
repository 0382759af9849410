// The grant table on Xen (skiff/grant.h is the API).
#ifndef SKIFF_RUNTIME_XEN_GRANTS_H_
#define SKIFF_RUNTIME_XEN_GRANTS_H_

#include "runtime/xen/start_info.h"

namespace skiff::xen {

// Asks Xen how large the table may grow and places its frames above the memory map. Without
// a grant table (Xen refuses the query), GrantedPage::Offer fails with ENODEV.
void InitGrants(const StartInfo& info);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_GRANTS_H_
