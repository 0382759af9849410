// Strong types for the numbers that name hypervisor objects. Each is a struct of one field, so
// a grant reference cannot be passed where a port is meant; `.value` is the raw number for the
// wire and for printing. [xen/xen.h domid_t, xen/event_channel.h evtchn_port_t,
// xen/grant_table.h grant_ref_t]
#ifndef SKIFF_XEN_TYPES_H_
#define SKIFF_XEN_TYPES_H_

#if !defined(__cplusplus) || __cplusplus < 202002L
// C and C++17 apps use the C library (skiff_c_args, skiff_cpp_args) without this header.
#error "skiff/xen_types.h needs C++20 (operator<=>): build the app with cpp_std=gnu++20"
#endif

#include <stdint.h>

#include <compare>

namespace skiff {

// A domain: 0 is dom0.
struct DomId {
  uint16_t value = 0;
  auto operator<=>(const DomId&) const = default;
};
inline constexpr DomId kDomidSelf{0x7ff0};   // DOMID_SELF: "this domain" in hypercalls

// An event channel port of this domain (or, for BindInterdomain, of the remote one).
struct EvtchnPort {
  uint32_t value = 0;
  auto operator<=>(const EvtchnPort&) const = default;
};

// An entry of this domain's grant table, or of another's when copying through its grants.
struct GrantRef {
  uint32_t value = 0;
  auto operator<=>(const GrantRef&) const = default;
};

// A guest frame number: a guest-physical address shifted right by 12.
struct Gfn {
  uint64_t value = 0;
  auto operator<=>(const Gfn&) const = default;
};

static_assert(sizeof(DomId) == 2 && sizeof(EvtchnPort) == 4 && sizeof(GrantRef) == 4 &&
              sizeof(Gfn) == 8);

}  // namespace skiff

#endif  // SKIFF_XEN_TYPES_H_
