// Guest tests of grants (and, to come, xenstore and xenbus), one per run: xenbus_test CASE [DOMID]
// Each case prints what it checked and returns 0, or prints "FAIL: ..." and returns 1.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string_view>
#include <vector>

#include "skiff/grant.h"
#include "skiff/sched.h"
#include "skiff/skiff.h"

namespace {

int failures = 0;

bool Check(bool ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
  return ok;
}

// Grants pages to this domain itself (|self| is its domid) and has Xen copy through them.
int Grants(uint16_t self) {
  auto page = skiff::GrantedPage::Offer(self);
  if (!page) return Check(false, page.error().message.c_str());
  auto* bytes = static_cast<unsigned char*>(page->data());
  for (int i = 0; i < 4096; i++) bytes[i] = static_cast<unsigned char>(i * 7 + 3);
  alignas(4096) static unsigned char copy[4096];
  skiff::GrantCopy in = {self, page->ref(), 0, copy, 4096, false};
  skiff::Result<void> copied = skiff::CopyGrants(&in, 1);
  if (!copied) printf("error: %s\n", copied.error().message.c_str());
  Check(copied.ok() && memcmp(copy, bytes, 4096) == 0,
        "grant copy moves a whole page out of a grant and the bytes match");
  memset(copy, 0x5a, 100);
  skiff::GrantCopy out = {self, page->ref(), 1000, copy, 100, true};
  copied = skiff::CopyGrants(&out, 1);
  Check(copied.ok() && bytes[999] != 0x5a && bytes[1000] == 0x5a && bytes[1099] == 0x5a &&
            bytes[1100] != 0x5a,
        "grant copy writes 100 bytes into a grant at an offset");
  skiff::GrantCopy bad = {self, page->ref(), 4000, copy, 200, false};
  copied = skiff::CopyGrants(&bad, 1);
  if (!copied) printf("error: %s\n", copied.error().message.c_str());
  Check(!copied.ok() && copied.error().code == EINVAL, "a copy across a page end is refused");
  skiff::GrantCopy stale = {self, 4000, 0, copy, 16, false};
  copied = skiff::CopyGrants(&stale, 1);
  if (!copied) printf("error: %s\n", copied.error().message.c_str());
  Check(!copied.ok(), "a copy through a grant never offered fails");

  // More grants than one frame of the table holds (512 entries).
  std::vector<skiff::GrantedPage> many;
  for (int i = 0; i < 700; i++) {
    auto p = skiff::GrantedPage::Offer(self, true);
    if (!p) {
      printf("error: %s\n", p.error().message.c_str());
      break;
    }
    many.push_back(std::move(*p));
  }
  printf("%zu grants in %u of at most %u frames\n", many.size(), skiff::GrantTableFrames(),
         skiff::GrantTableMaxFrames());
  Check(many.size() == 700 && skiff::GrantTableFrames() >= 2,
        "the grant table grows past its first frame");
  uint64_t free_before = skiff::FreeMemory();
  many.clear();
  Check(skiff::FreeMemory() >= free_before + 700 * 4096, "ended grants give their pages back");
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view test = argc > 1 ? argv[1] : "";
  uint16_t domid = static_cast<uint16_t>(argc > 2 ? atoi(argv[2]) : 0);
  if (test == "grants") return Grants(domid);
  printf("FAIL: unknown test '%.*s'\n", static_cast<int>(test.size()), test.data());
  return 1;
}
