// Seeding the filesystem at boot from tar archives: the one linker/pack-files puts into the
// image, and the domain's ramdisk. Portable (host-tested, fuzzed).
//
// The archive is POSIX tar (ustar, with pax or GNU long names), as `tar -cf` writes it.
// Regular files and folders are taken, with their modes; a file's bytes stay in the archive
// (which must outlive the filesystem) until the app first writes the file. Links, symbolic
// links and devices are refused: the seed says what the guest starts with, so a member it
// cannot hold is an error, not a silent gap.
#ifndef SKIFF_RUNTIME_LIBC_SEED_H_
#define SKIFF_RUNTIME_LIBC_SEED_H_

#include <stddef.h>

#include "runtime/libc/memfs.h"
#include "skiff/result.h"

namespace skiff::posix {

struct SeedCount {
  size_t files = 0;
  size_t folders = 0;
  size_t bytes = 0;
};

// Adds the archive's members under / of |fs|. |origin| names the archive in errors, which
// also give the member and its offset; members before a bad one stay added.
Result<SeedCount> SeedFromTar(Filesystem& fs, const void* archive, size_t size,
                              const char* origin);

}  // namespace skiff::posix

#endif  // SKIFF_RUNTIME_LIBC_SEED_H_
