// Grants: pages of this guest that another domain may map or copy. [xen/grant_table.h]
#ifndef SKIFF_GRANT_H_
#define SKIFF_GRANT_H_

#include <stddef.h>
#include <stdint.h>

#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff {

// Owns one zeroed page and the grant that lets |domid| at it. Destroying it ends the grant;
// while the other domain still has the page mapped, the page is kept (never reused) and the
// grant is ended later.
class GrantedPage {
 public:
  // ENOSPC when the grant table is full (see WaitForGrant), ENOMEM when memory is.
  static Result<GrantedPage> Offer(DomId domid, bool readonly = false);

  GrantedPage(GrantedPage&& other) noexcept;
  GrantedPage& operator=(GrantedPage&& other) noexcept;
  ~GrantedPage();

  GrantRef ref() const { return ref_; }
  void* data() const { return page_; }

 private:
  GrantedPage(GrantRef ref, void* page) : ref_(ref), page_(page) {}
  void Release();

  GrantRef ref_;
  void* page_ = nullptr;
};

// Parks the task until a grant entry is freed or |deadline| passes; false on timeout.
bool WaitForGrant(uint64_t deadline);

// One copy between a granted page of another domain (or of this one) and local memory,
// done by Xen (GNTTABOP_copy). Neither side may cross a page boundary.
struct GrantCopy {
  DomId domid;        // the domain that granted |ref|
  GrantRef ref;
  uint16_t offset;    // within the granted page
  void* local;
  uint16_t length;
  bool to_grant;      // copy |local| into the granted page, else the other way
};

// Does |count| copies, in batches. The error names the first copy that failed.
Result<void> CopyGrants(const GrantCopy* copies, size_t count);

// Frames of the grant table mapped so far, and the most Xen allows.
uint32_t GrantTableFrames();
uint32_t GrantTableMaxFrames();

}  // namespace skiff

#endif  // SKIFF_GRANT_H_
