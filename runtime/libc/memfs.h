// The in-memory filesystem: a writable tree of directories, files and devices, like Linux's
// tmpfs. Portable (host-tested).
//
// The guest has one (posix.cc), seeded at boot with the files the app ships (seed.h) and
// /tmp and /dev. Files seeded from the image keep their bytes there until first written.
// Calls never block, and the scheduler is cooperative, so no call is ever interleaved with
// another: there are no locks. Names are bytes; paths are at most PATH_MAX (4096) bytes with
// the NUL, a name at most NAME_MAX (255). There are no symbolic links. The caller is root:
// permissions are kept and shown but do not refuse access, as for root on Linux.
#ifndef SKIFF_RUNTIME_LIBC_MEMFS_H_
#define SKIFF_RUNTIME_LIBC_MEMFS_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <string_view>

#include "runtime/libc/file.h"

namespace skiff::posix {

struct Node;
struct Directory;

inline constexpr size_t kPathMax = 4096;
inline constexpr size_t kNameMax = 255;

class Filesystem {
 public:
  struct Options {
    uint64_t (*now)() = nullptr;   // real time in ns for timestamps; none: 0
    uint64_t max_bytes = UINT64_MAX;   // file data beyond this is ENOSPC
  };
  explicit Filesystem(const Options& options);
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;
  ~Filesystem();

  // Each is relative to the working directory and returns 0 (or a count) or -errno.
  int Open(const char* path, int flags, mode_t mode, File** out);
  int Stat(const char* path, struct stat* st);
  int Access(const char* path, int mode);
  int Mkdir(const char* path, mode_t mode);
  int Rmdir(const char* path);
  int Unlink(const char* path);
  int Rename(const char* from, const char* to);
  int Link(const char* from, const char* to);
  int Truncate(const char* path, off_t size);
  int Chmod(const char* path, mode_t mode);
  int Chdir(const char* path);
  // Writes the working directory's absolute path; its length, -ERANGE when |size| is too
  // small, -ENOENT when it was removed.
  int Getcwd(char* buffer, size_t size);
  mode_t Umask(mode_t mask);

  // For seeding: a file at |path| (its folders made as needed) with |size| bytes at |data|,
  // which stay the caller's and must live as long as the filesystem (the image's). It
  // replaces a file already there; anything else there is EEXIST.
  int AddFile(const char* path, const void* data, size_t size, mode_t mode);
  // A device at |path| (|mode|: S_IFCHR or S_IFBLK, and the permissions): opening it calls
  // |open| with the open flags and |rdev|.
  using DeviceOpen = int (*)(int flags, dev_t rdev, File** out);
  int AddDevice(const char* path, DeviceOpen open, dev_t rdev, mode_t mode = S_IFCHR | 0666);
  int MkdirAll(const char* path, mode_t mode);

  uint64_t used_bytes() const { return used_bytes_; }

  // For the nodes' files, not callers.
  bool Charge(uint64_t bytes);
  void Uncharge(uint64_t bytes) { used_bytes_ -= bytes; }
  uint64_t Now() const { return options_.now ? options_.now() : 0; }
  ino_t NextIno() { return ++last_ino_; }

 private:
  struct Walk;
  int Resolve(const char* path, Walk* walk);
  int AddEntry(Directory* dir, std::string_view name, Node* node);
  int Create(Walk& walk, mode_t mode, Node** out);

  Options options_;
  Directory* root_;
  Directory* cwd_;
  mode_t umask_ = 022;
  uint64_t used_bytes_ = 0;
  ino_t last_ino_ = 0;
};

}  // namespace skiff::posix

#endif  // SKIFF_RUNTIME_LIBC_MEMFS_H_
