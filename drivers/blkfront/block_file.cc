// A disk as a file of the descriptor table: /dev/xvda for read, write, pread, pwrite, lseek,
// fsync, fstat and stdio. Offsets and lengths need not be whole sectors: a partial sector is
// read, changed and written back (read-modify-write). As on Linux, a read at the end gives 0,
// a write there ENOSPC, a read or write across it stops at it, and fstat says st_size 0 (the
// size is lseek(fd, 0, SEEK_END)).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <new>

#include "runtime/libc/file.h"
#include "skiff/block.h"

namespace skiff::blk {
namespace {

constexpr size_t kWindow = 64 * 1024;   // the bounce buffer for partial sectors

int Errno(const Result<void>& r) { return r.ok() ? 0 : -r.error().code; }

class BlockFile final : public posix::File {
 public:
  BlockFile(Disk& disk, int flags) : File(flags), disk_(disk) {}

  ssize_t Read(void* data, size_t n) override {
    ssize_t done = ReadAt(data, n, offset_);
    if (done > 0) offset_ += done;
    return done;
  }
  ssize_t Write(const void* data, size_t n) override {
    ssize_t done = WriteAt(data, n, offset_);
    if (done > 0) offset_ += done;
    return done;
  }

  ssize_t ReadAt(void* data, size_t n, off_t offset) override {
    if (offset < 0) return -EINVAL;
    uint64_t size = disk_.info().size;
    if (static_cast<uint64_t>(offset) >= size || n == 0) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    if (Aligned(offset, n)) {
      int rc = Errno(disk_.Read(offset, data, n));
      return rc < 0 ? rc : static_cast<ssize_t>(n);
    }
    return Bounce(static_cast<char*>(data), n, offset, /*write=*/false);
  }

  ssize_t WriteAt(const void* data, size_t n, off_t offset) override {
    if (offset < 0) return -EINVAL;
    if (n == 0) return 0;
    uint64_t size = disk_.info().size;
    if (static_cast<uint64_t>(offset) >= size) return -ENOSPC;
    n = static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    if (Aligned(offset, n)) {
      int rc = Errno(disk_.Write(offset, data, n));
      return rc < 0 ? rc : static_cast<ssize_t>(n);
    }
    return Bounce(const_cast<char*>(static_cast<const char*>(data)), n, offset, /*write=*/true);
  }

  off_t Seek(off_t offset, int whence) override {
    off_t base = whence == SEEK_SET   ? 0
                 : whence == SEEK_CUR ? offset_
                 : whence == SEEK_END ? static_cast<off_t>(disk_.info().size)
                                      : -1;
    if (base < 0 || base + offset < 0) return -EINVAL;
    offset_ = base + offset;
    return offset_;
  }

  int Stat(struct stat* st) override {
    BlockInfo info = disk_.info();
    *st = {};
    st->st_mode = S_IFBLK | 0660;
    st->st_blksize = static_cast<blksize_t>(std::max<uint32_t>(info.physical_sector_size, 4096));
    st->st_nlink = 1;
    return 0;
  }

  int Sync() override { return Errno(disk_.Flush()); }

 private:
  bool Aligned(uint64_t offset, size_t n) const {
    uint32_t ss = disk_.info().sector_size;
    return offset % ss == 0 && n % ss == 0;
  }

  // Partial sectors: each window of whole sectors is read, changed (for a write) and written.
  ssize_t Bounce(char* data, size_t n, uint64_t offset, bool write) {
    uint32_t ss = disk_.info().sector_size;
    std::unique_ptr<char[]> window(new (std::nothrow) char[kWindow]);
    if (!window) return -ENOMEM;
    size_t done = 0;
    while (done < n) {
      uint64_t at = offset + done;
      uint64_t start = at - at % ss;
      size_t skip = static_cast<size_t>(at - start);
      size_t take = std::min(n - done, kWindow - skip);
      size_t span = (skip + take + ss - 1) / ss * ss;
      if (int rc = Errno(disk_.Read(start, window.get(), span)); rc < 0) {
        return done > 0 ? static_cast<ssize_t>(done) : rc;
      }
      if (write) {
        memcpy(window.get() + skip, data + done, take);
        if (int rc = Errno(disk_.Write(start, window.get(), span)); rc < 0) {
          return done > 0 ? static_cast<ssize_t>(done) : rc;
        }
      } else {
        memcpy(data + done, window.get() + skip, take);
      }
      done += take;
    }
    return static_cast<ssize_t>(done);
  }

  Disk& disk_;
  off_t offset_ = 0;
};

}  // namespace

int OpenBlockFile(Disk& disk, int flags, posix::File** out) {
  if ((flags & O_ACCMODE) != O_RDONLY && disk.info().read_only) return -EROFS;
  *out = new (std::nothrow) BlockFile(disk, flags);
  return *out != nullptr ? 0 : -ENOMEM;
}

}  // namespace skiff::blk
