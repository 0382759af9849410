// Hypercall results to Errors: Xen's errno values are Linux's, not the C library's.
#include "runtime/xen/xen_error.h"

#include <errno.h>

#include <gtest/gtest.h>

namespace skiff::xen {
namespace {

TEST(XenError, NamesAndTranslatesXensErrnoValues) {
  EXPECT_STREQ(ErrorName(-22), "EINVAL");
  EXPECT_STREQ(ErrorName(-38), "ENOSYS");
  EXPECT_STREQ(ErrorName(-95), "EOPNOTSUPP");
  EXPECT_STREQ(ErrorName(-1000), "an unknown error");
  EXPECT_EQ(ErrnoFromXen(-22), EINVAL);
  EXPECT_EQ(ErrnoFromXen(-28), ENOSPC);
  EXPECT_EQ(ErrnoFromXen(-38), ENOSYS);   // by name: newlib's ENOSYS is 88
  EXPECT_EQ(ErrnoFromXen(-1000), EIO);
}

TEST(XenError, MessageSaysWhatFailedAndWhatXenSaid) {
  Error error = XenError(-28, "event channel: allocating a port for domain %u failed", 3);
  EXPECT_EQ(error.code, ENOSPC);
  EXPECT_EQ(error.message, "event channel: allocating a port for domain 3 failed: Xen says ENOSPC");
  EXPECT_EQ(XenError(-1000, "x").message, "x: Xen says an unknown error (-1000)");
}

}  // namespace
}  // namespace skiff::xen
