// newlib's system calls for files and descriptors, and the POSIX file calls newlib leaves
// out (directories, dup, fcntl, getcwd...), over the descriptor table and the in-memory
// filesystem. newlib for x86_64-elf is built with MISSING_SYSCALL_NAMES: these are the plain
// POSIX names. Apps call them directly too, so they set the task's errno (newlib's _r
// wrappers keep it when they see the global errno unset).
#include "runtime/libc/posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <new>

#include "runtime/exit.h"
#include "runtime/libc/seed.h"
#include "runtime/mm/memory.h"
#include "runtime/xen/console.h"
#include "runtime/xen/shared_info.h"

// The files an app ships in its image (linker/pack-files): a tar archive, if linked.
extern "C" const char skiff_files_start[] __attribute__((weak));
extern "C" const char skiff_files_end[] __attribute__((weak));

namespace skiff::posix {
namespace {

FdTable* descriptors;
Filesystem* files;

// /dev/null (reads nothing, takes every write), /dev/zero (reads zeros, takes every write)
// and /dev/full (reads zeros, every write is ENOSPC), as Linux's: memory devices 1:3, 1:5, 1:7.
class MemoryDevice final : public File {
 public:
  MemoryDevice(int flags, int minor) : File(flags), minor_(minor) {}
  ssize_t Read(void* out, size_t len) override {
    if (minor_ == 3) return 0;
    memset(out, 0, len);
    return static_cast<ssize_t>(len);
  }
  ssize_t Write(const void*, size_t len) override {
    return minor_ == 7 ? -ENOSPC : static_cast<ssize_t>(len);
  }
  off_t Seek(off_t, int) override { return 0; }
  int Stat(struct stat* st) override {
    *st = {};
    st->st_mode = S_IFCHR | 0666;
    st->st_rdev = Dev(1, minor_);
    return 0;
  }

 private:
  int minor_;
};

template <int kMinor>
int OpenMemoryDevice(int flags, dev_t, File** out) {
  *out = new (std::nothrow) MemoryDevice(flags, kMinor);
  return *out != nullptr ? 0 : -ENOMEM;
}

[[noreturn]] void SeedError(const char* message) {
  xen::ConsolePrint("skiff: cannot seed the filesystem: %s\n", message);
  ExitGuest(2);
}

// -errno to -1 and errno, as POSIX calls return.
template <typename T>
T Sys(T rc) {
  if (rc >= 0) return rc;
  errno = static_cast<int>(-rc);
  return -1;
}

File* Get(int fd) { return descriptors->Get(fd); }

}  // namespace

FdTable& Descriptors() { return *descriptors; }
Filesystem& Files() { return *files; }

void InitPosix(const xen::StartInfo& info, char** env, int env_count) {
  descriptors = new FdTable();
  // As Linux's tmpfs: file data may take half of the memory.
  files = new Filesystem({.now = xen::WallClockNanoseconds, .max_bytes = mm::TotalRam() / 2});
  files->MkdirAll("/tmp", 01777);
  files->Chmod("/tmp", 01777);
  files->MkdirAll("/dev", 0755);
  files->AddDevice("/dev/null", OpenMemoryDevice<3>, Dev(1, 3));
  files->AddDevice("/dev/zero", OpenMemoryDevice<5>, Dev(1, 5));
  files->AddDevice("/dev/full", OpenMemoryDevice<7>, Dev(1, 7));
  auto open_console = [](int flags, dev_t, File** out) { return OpenConsole(flags, out); };
  files->AddDevice("/dev/console", open_console, Dev(5, 1));
  files->AddDevice("/dev/tty", open_console, Dev(5, 0));
  if (+skiff_files_start != nullptr && +skiff_files_end > +skiff_files_start) {
    Result<SeedCount> seeded = SeedFromTar(*files, skiff_files_start,
                                           skiff_files_end - skiff_files_start,
                                           "the image's files");
    if (!seeded) SeedError(seeded.error().message.c_str());
  }
  if (info.ramdisk_size > 0) {   // after the image's: its files replace the image's
    Result<SeedCount> seeded = SeedFromTar(*files, reinterpret_cast<const void*>(info.ramdisk_paddr),
                                           info.ramdisk_size, "the ramdisk");
    if (!seeded) SeedError(seeded.error().message.c_str());
  }
  File* console;
  if (OpenConsole(O_RDWR, &console) < 0) SeedError("no memory for the console");
  descriptors->Install(console);
  descriptors->Dup(0);
  descriptors->Dup(0);
  InitEnvironment(env, env_count);
}

}  // namespace skiff::posix

using skiff::posix::Descriptors;
using skiff::posix::File;
using skiff::posix::Files;
using skiff::posix::Get;
using skiff::posix::Sys;

// A directory stream: the descriptor and the entry readdir returned last.
struct __skiff_dir {
  int fd;
  struct dirent entry;
};

extern "C" {

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & O_CREAT) {
    va_list args;
    va_start(args, flags);
    mode = static_cast<mode_t>(va_arg(args, int));
    va_end(args);
  }
  File* file;
  if (int rc = Files().Open(path, flags, mode, &file); rc < 0) return Sys(rc);
  return Sys(Descriptors().Install(file, 0, (flags & O_CLOEXEC) != 0));
}

int creat(const char* path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

int close(int fd) { return Sys(Descriptors().Close(fd)); }

_READ_WRITE_RETURN_TYPE read(int fd, void* out, size_t len) {
  File* file = Get(fd);
  if (file == nullptr || !file->readable()) return Sys(-EBADF);
  return Sys(file->Read(out, len));
}

_READ_WRITE_RETURN_TYPE write(int fd, const void* data, size_t len) {
  File* file = Get(fd);
  if (file == nullptr || !file->writable()) return Sys(-EBADF);
  return Sys(file->Write(data, len));
}

ssize_t pread(int fd, void* out, size_t len, off_t offset) {
  File* file = Get(fd);
  if (file == nullptr || !file->readable()) return Sys(-EBADF);
  return Sys(file->ReadAt(out, len, offset));
}

ssize_t pwrite(int fd, const void* data, size_t len, off_t offset) {
  File* file = Get(fd);
  if (file == nullptr || !file->writable()) return Sys(-EBADF);
  return Sys(file->WriteAt(data, len, offset));
}

off_t lseek(int fd, off_t offset, int whence) {
  File* file = Get(fd);
  return Sys(file == nullptr ? -EBADF : file->Seek(offset, whence));
}

int fstat(int fd, struct stat* st) {
  File* file = Get(fd);
  return Sys(file == nullptr ? -EBADF : file->Stat(st));
}

int stat(const char* path, struct stat* st) { return Sys(Files().Stat(path, st)); }
// There are no symbolic links: lstat is stat.
int lstat(const char* path, struct stat* st) { return Sys(Files().Stat(path, st)); }

// 1, or 0 with errno set.
int isatty(int fd) {
  File* file = Get(fd);
  if (file != nullptr && file->IsTerminal()) return 1;
  errno = file == nullptr ? EBADF : ENOTTY;
  return 0;
}

int access(const char* path, int mode) { return Sys(Files().Access(path, mode)); }
int unlink(const char* path) { return Sys(Files().Unlink(path)); }
int rmdir(const char* path) { return Sys(Files().Rmdir(path)); }
int mkdir(const char* path, mode_t mode) { return Sys(Files().Mkdir(path, mode)); }
int link(const char* from, const char* to) { return Sys(Files().Link(from, to)); }
// POSIX rename, replacing the target in one step (newlib's own is link and unlink).
int rename(const char* from, const char* to) { return Sys(Files().Rename(from, to)); }
int _rename_r(struct _reent*, const char* from, const char* to) { return rename(from, to); }
int truncate(const char* path, off_t size) { return Sys(Files().Truncate(path, size)); }
int chmod(const char* path, mode_t mode) { return Sys(Files().Chmod(path, mode)); }
int chdir(const char* path) { return Sys(Files().Chdir(path)); }
mode_t umask(mode_t mask) { return Files().Umask(mask); }

// The filesystem has no symbolic links: making one is EPERM, as on Linux's filesystems
// without them, and nothing is one to read.
int symlink(const char*, const char*) { return Sys(-EPERM); }
ssize_t readlink(const char* path, char*, size_t) {
  struct stat st;
  if (int rc = Files().Stat(path, &st); rc < 0) return Sys(rc);
  return Sys(-EINVAL);
}

// Owners are not kept (the guest's one user is root), so changing them changes nothing.
int chown(const char* path, uid_t, gid_t) {
  struct stat st;
  return Sys(Files().Stat(path, &st));
}
int lchown(const char* path, uid_t owner, gid_t group) { return chown(path, owner, group); }
int fchown(int fd, uid_t, gid_t) { return Sys(Get(fd) == nullptr ? -EBADF : 0); }

int fchmod(int fd, mode_t mode) {
  File* file = Get(fd);
  return Sys(file == nullptr ? -EBADF : file->Chmod(mode));
}

int ftruncate(int fd, off_t size) {
  File* file = Get(fd);
  return Sys(file == nullptr ? -EBADF : file->Truncate(size));
}

int fsync(int fd) {
  File* file = Get(fd);
  return Sys(file == nullptr ? -EBADF : file->Sync());
}
int fdatasync(int fd) { return fsync(fd); }
void sync() {}

char* getcwd(char* buffer, size_t size) {
  char path[skiff::posix::kPathMax];
  int n = Files().Getcwd(path, sizeof(path));
  if (n < 0) return (Sys(n), nullptr);
  if (buffer == nullptr) {   // as glibc: allocated, of |size| bytes or as long as needed
    size_t want = size > static_cast<size_t>(n) ? size : static_cast<size_t>(n) + 1;
    buffer = static_cast<char*>(malloc(want));
    if (buffer == nullptr) return (Sys(-ENOMEM), nullptr);
  } else if (size == 0) {
    return (Sys(-EINVAL), nullptr);
  } else if (static_cast<size_t>(n) + 1 > size) {
    return (Sys(-ERANGE), nullptr);
  }
  memcpy(buffer, path, n + 1);
  return buffer;
}

// The absolute path without ".", ".." or repeated slashes; the file must exist.
char* realpath(const char* path, char* resolved) {
  if (path == nullptr) return (Sys(-EINVAL), nullptr);
  struct stat st;
  if (int rc = Files().Stat(path, &st); rc < 0) return (Sys(rc), nullptr);
  char full[skiff::posix::kPathMax * 2];
  size_t at = 0;
  if (path[0] != '/') {
    int n = Files().Getcwd(full, sizeof(full));
    if (n < 0) return (Sys(n), nullptr);
    at = static_cast<size_t>(n);
  }
  // Each name is added or, for "..", the last one taken off.
  for (const char* p = path; *p != '\0';) {
    while (*p == '/') p++;
    const char* end = p;
    while (*end != '\0' && *end != '/') end++;
    size_t length = static_cast<size_t>(end - p);
    if (length == 0 || (length == 1 && p[0] == '.')) {
    } else if (length == 2 && p[0] == '.' && p[1] == '.') {
      while (at > 0 && full[at - 1] != '/') at--;
      if (at > 0) at--;
    } else {
      if (at + 1 + length >= skiff::posix::kPathMax) return (Sys(-ENAMETOOLONG), nullptr);
      full[at++] = '/';
      memcpy(full + at, p, length);
      at += length;
    }
    p = end;
  }
  if (at == 0) full[at++] = '/';
  full[at] = '\0';
  if (resolved == nullptr) {
    resolved = strdup(full);
    if (resolved == nullptr) return (Sys(-ENOMEM), nullptr);
  } else {
    memcpy(resolved, full, at + 1);
  }
  return resolved;
}

int dup(int fd) { return Sys(Descriptors().Dup(fd)); }
int dup2(int fd, int to) { return Sys(Descriptors().Dup2(fd, to)); }

int fcntl(int fd, int command, ...) {
  va_list args;
  va_start(args, command);
  long arg = va_arg(args, long);
  va_end(args);
  File* file = Get(fd);
  if (file == nullptr) return Sys(-EBADF);
  switch (command) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return Sys(Descriptors().Dup(fd, static_cast<int>(arg), command == F_DUPFD_CLOEXEC));
    case F_GETFD:
      return Sys(Descriptors().GetFdFlags(fd));
    case F_SETFD:
      return Sys(Descriptors().SetFdFlags(fd, static_cast<int>(arg)));
    case F_GETFL:
      return file->flags();
    case F_SETFL:
      file->SetStatusFlags(static_cast<int>(arg));
      return 0;
    case F_GETLK: {
      // One process: no other one ever holds a lock.
      auto* lock = reinterpret_cast<struct flock*>(arg);
      if (lock == nullptr) return Sys(-EFAULT);
      lock->l_type = F_UNLCK;
      return 0;
    }
    case F_SETLK:
    case F_SETLKW:
      return reinterpret_cast<struct flock*>(arg) == nullptr ? Sys(-EFAULT) : 0;
    default:
      return Sys(-EINVAL);
  }
}

DIR* fdopendir(int fd) {
  File* file = Get(fd);
  if (file == nullptr) return (Sys(-EBADF), nullptr);
  struct stat st;
  if (file->Stat(&st) < 0 || !S_ISDIR(st.st_mode)) return (Sys(-ENOTDIR), nullptr);
  DIR* dir = static_cast<DIR*>(malloc(sizeof(DIR)));
  if (dir == nullptr) return (Sys(-ENOMEM), nullptr);
  dir->fd = fd;
  return dir;
}

DIR* opendir(const char* path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) close(fd);
  return dir;
}

struct dirent* readdir(DIR* dir) {
  File* file = Get(dir->fd);
  if (file == nullptr) return (Sys(-EBADF), nullptr);
  skiff::posix::DirEntry entry;
  int rc = file->ReadDirEntry(&entry);
  if (rc <= 0) return (rc < 0 ? Sys(rc) : 0, nullptr);   // at the end, errno stays
  dir->entry.d_ino = entry.ino;
  dir->entry.d_type = entry.type;
  dir->entry.d_off = lseek(dir->fd, 0, SEEK_CUR);
  dir->entry.d_reclen = sizeof(struct dirent);
  strcpy(dir->entry.d_name, entry.name);
  return &dir->entry;
}

int readdir_r(DIR* dir, struct dirent* entry, struct dirent** result) {
  int saved = errno;
  errno = 0;
  struct dirent* next = readdir(dir);
  int error = errno;
  errno = saved;
  if (next == nullptr) {
    *result = nullptr;
    return error;
  }
  *entry = *next;
  *result = entry;
  return 0;
}

int closedir(DIR* dir) {
  int rc = close(dir->fd);
  free(dir);
  return rc;
}

void rewinddir(DIR* dir) { lseek(dir->fd, 0, SEEK_SET); }
long telldir(DIR* dir) { return lseek(dir->fd, 0, SEEK_CUR); }
void seekdir(DIR* dir, long position) { lseek(dir->fd, position, SEEK_SET); }
int dirfd(DIR* dir) { return dir->fd; }

int scandir(const char* path, struct dirent*** out, int (*filter)(const struct dirent*),
            int (*compare)(const struct dirent**, const struct dirent**)) {
  DIR* dir = opendir(path);
  if (dir == nullptr) return -1;
  struct dirent** list = nullptr;
  size_t count = 0, capacity = 0;
  bool full = false;
  while (struct dirent* entry = readdir(dir)) {
    if (filter != nullptr && !filter(entry)) continue;
    if (count == capacity) {
      capacity = capacity == 0 ? 16 : capacity * 2;
      auto* grown = static_cast<struct dirent**>(realloc(list, capacity * sizeof(*list)));
      if ((full = grown == nullptr)) break;
      list = grown;
    }
    list[count] = static_cast<struct dirent*>(malloc(sizeof(struct dirent)));
    if ((full = list[count] == nullptr)) break;
    *list[count++] = *entry;
  }
  closedir(dir);
  if (full) {
    while (count > 0) free(list[--count]);
    free(list);
    return Sys(-ENOMEM);
  }
  if (compare != nullptr) {
    qsort(list, count, sizeof(*list),
          reinterpret_cast<int (*)(const void*, const void*)>(compare));
  }
  *out = list;
  return static_cast<int>(count);
}

int alphasort(const struct dirent** a, const struct dirent** b) {
  return strcoll((*a)->d_name, (*b)->d_name);
}

}  // extern "C"
