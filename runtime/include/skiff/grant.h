// Grants: pages of this guest that another domain may map or copy. [xen/grant_table.h]
//
// Three owners, each move-only, each ending its grants when destroyed:
//   GrantedPage  a fresh zeroed page of the runtime's and its grant (rings, bounce buffers);
//   Grant        a grant of a frame the caller owns (an app's buffer, a packet);
//   GrantRefs    N references held at once, all or none, each granted, revoked and granted
//                again to other frames as a driver likes (multi-segment requests, pools of
//                persistent grants).
// A grant whose page the other domain still maps when it ends is not ended yet: the runtime
// keeps trying (at each later offer). A GrantedPage's page is kept out of the allocator until
// then; for a Grant of the caller's frame the caller must not reuse the frame before the
// backend has answered for it.
#ifndef SKIFF_GRANT_H_
#define SKIFF_GRANT_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <utility>

#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff {

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

// The guest frame that holds |address|: any mapped address of the guest (the direct map, a
// task's stack, the image). EFAULT, naming the address, when nothing is mapped there.
Result<Gfn> GfnOf(const void* address);

class Grant {
 public:
  // Lets |domid| at the frame that holds |address|. EFAULT for an unmapped address, ENOSPC
  // when the table is full.
  static Result<Grant> Offer(DomId domid, const void* address, bool readonly);

  Grant() = default;
  Grant(Grant&& other) noexcept;
  Grant& operator=(Grant&& other) noexcept;
  ~Grant() { End(); }

  bool valid() const { return valid_; }
  GrantRef ref() const { return ref_; }
  Gfn gfn() const { return gfn_; }
  // Ends the access now (or, while still mapped, as soon as it can be).
  void End();

 private:
  Grant(GrantRef ref, Gfn gfn) : ref_(ref), gfn_(gfn), valid_(true) {}

  GrantRef ref_;
  Gfn gfn_;
  bool valid_ = false;
};

class GrantRefs {
 public:
  // Holds |count| references, all or none: ENOSPC (holding nothing) when the table cannot
  // give that many; see WaitForGrant.
  static Result<GrantRefs> Reserve(size_t count);

  GrantRefs() = default;
  GrantRefs(GrantRefs&& other) noexcept
      : refs_(std::move(other.refs_)), count_(std::exchange(other.count_, 0)) {}
  GrantRefs& operator=(GrantRefs&& other) noexcept;
  ~GrantRefs() { Clear(); }

  size_t size() const { return count_; }
  GrantRef operator[](size_t i) const { return refs_[i]; }

  // Lets |domid| at frame |gfn| through reference |i|, which must not be granted now.
  Result<void> Grant(size_t i, DomId domid, Gfn gfn, bool readonly);
  // Ends reference |i|'s access and keeps it held for another Grant. EBUSY while the other
  // domain still maps the page (the access is left as it was).
  Result<void> Revoke(size_t i);
  // Ends every access (deferring those still mapped) and returns every reference.
  void Clear();

 private:
  std::unique_ptr<GrantRef[]> refs_;
  size_t count_ = 0;
};

// Parks the task until a grant entry is freed or |deadline| passes; false on timeout.
bool WaitForGrant(uint64_t deadline);

// One copy between a granted page of another domain (or of this one) and local memory,
// done by Xen (GNTTABOP_copy). Neither side may cross a page boundary. |local| may be any
// mapped address, a task's stack included.
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
