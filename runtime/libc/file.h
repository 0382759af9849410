// Open files and the descriptor table behind newlib's system calls. Portable (host-tested).
//
// A File is an open file description, shared by the descriptors dup() makes: it holds the
// offset and the status flags. The console, files and directories of the in-memory
// filesystem and the devices under /dev are kinds of it; block devices and sockets will be.
//
// Calls return a value or a negative errno, as the kernel's do: a failed read or open is
// common and cheap here, and the POSIX layer (posix.cc) turns it into -1 and errno.
#ifndef SKIFF_RUNTIME_LIBC_FILE_H_
#define SKIFF_RUNTIME_LIBC_FILE_H_

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

namespace skiff::posix {

// One entry of a directory, as readdir gives it.
struct DirEntry {
  ino_t ino;
  unsigned char type;   // DT_REG, DT_DIR or DT_CHR
  char name[256];
};

// poll()'s bits, Linux's values (runtime/include/posix/poll.h).
inline constexpr short kPollIn = 0x001, kPollOut = 0x004, kPollErr = 0x008, kPollHup = 0x010;

// Wakes the tasks in poll() and select(), to look again (poll.cc).
void NotifyPollers();

class File {
 public:
  explicit File(int flags) : flags_(flags) {}
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  virtual ~File() = default;

  virtual ssize_t Read(void*, size_t) { return -EINVAL; }
  virtual ssize_t Write(const void*, size_t) { return -EINVAL; }
  // At |offset|, without moving the file's own offset: pread and pwrite.
  virtual ssize_t ReadAt(void*, size_t, off_t) { return -ESPIPE; }
  virtual ssize_t WriteAt(const void*, size_t, off_t) { return -ESPIPE; }
  virtual off_t Seek(off_t, int) { return -ESPIPE; }
  virtual int Stat(struct stat* st) = 0;
  virtual int Truncate(off_t) { return -EINVAL; }
  // fchmod: files of the filesystem keep the mode; devices, pipes and the console ignore it.
  virtual int Chmod(mode_t) { return 0; }
  virtual int Sync() { return 0; }
  virtual bool IsTerminal() const { return false; }
  // What poll() would report now: POLLIN, POLLOUT, POLLHUP, POLLERR. A file whose readiness
  // changes calls NotifyPollers() when it does.
  virtual short Poll() { return kPollIn | kPollOut; }
  // The next entry of a directory: 1, 0 at its end, or -ENOTDIR for other files.
  virtual int ReadDirEntry(DirEntry*) { return -ENOTDIR; }

  // O_RDONLY, O_WRONLY or O_RDWR, with O_APPEND and O_NONBLOCK.
  int flags() const { return flags_; }
  bool readable() const { return (flags_ & O_ACCMODE) != O_WRONLY; }
  bool writable() const { return (flags_ & O_ACCMODE) != O_RDONLY; }
  // F_SETFL: only O_APPEND and O_NONBLOCK change.
  void SetStatusFlags(int flags) {
    constexpr int kChangeable = O_APPEND | O_NONBLOCK;
    flags_ = (flags_ & ~kChangeable) | (flags & kChangeable);
  }

  void Ref() { refs_++; }
  void Unref() {
    if (--refs_ == 0) delete this;
  }

 private:
  int flags_;
  int refs_ = 1;
};

// The process's descriptors: the lowest free number first, as POSIX says.
class FdTable {
 public:
  static constexpr int kMaxFds = 1024;   // Linux's default RLIMIT_NOFILE

  FdTable() = default;
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;
  ~FdTable();

  // Takes over the caller's reference to |file|; the lowest free descriptor at or above
  // |lowest|, or -EMFILE (and |file| is dropped).
  int Install(File* file, int lowest = 0, bool cloexec = false);
  // Puts |file| at |fd| (closing what was there) and takes over the reference.
  int InstallAt(int fd, File* file);
  // The file behind |fd| (no reference taken), or nullptr.
  File* Get(int fd) const;
  int Close(int fd);
  int Dup(int fd, int lowest = 0, bool cloexec = false);
  int Dup2(int fd, int to);
  int GetFdFlags(int fd) const;
  int SetFdFlags(int fd, int flags);
  int open_count() const;

 private:
  struct Slot {
    File* file = nullptr;
    bool cloexec = false;
  };
  Slot slots_[kMaxFds];
};

}  // namespace skiff::posix

#endif  // SKIFF_RUNTIME_LIBC_FILE_H_
