#include "runtime/libc/file.h"

namespace skiff::posix {

FdTable::~FdTable() {
  for (int fd = 0; fd < kMaxFds; fd++) Close(fd);
}

int FdTable::Install(File* file, int lowest, bool cloexec) {
  if (lowest < 0 || lowest >= kMaxFds) {
    file->Unref();
    return -EINVAL;
  }
  for (int fd = lowest; fd < kMaxFds; fd++) {
    if (slots_[fd].file == nullptr) {
      slots_[fd] = {file, cloexec};
      return fd;
    }
  }
  file->Unref();
  return -EMFILE;
}

int FdTable::InstallAt(int fd, File* file) {
  if (fd < 0 || fd >= kMaxFds) {
    file->Unref();
    return -EBADF;
  }
  Close(fd);
  slots_[fd] = {file, false};
  return fd;
}

File* FdTable::Get(int fd) const {
  return fd >= 0 && fd < kMaxFds ? slots_[fd].file : nullptr;
}

int FdTable::Close(int fd) {
  File* file = Get(fd);
  if (file == nullptr) return -EBADF;
  slots_[fd] = {};
  file->Unref();
  return 0;
}

int FdTable::Dup(int fd, int lowest, bool cloexec) {
  File* file = Get(fd);
  if (file == nullptr) return -EBADF;
  file->Ref();
  return Install(file, lowest, cloexec);
}

int FdTable::Dup2(int fd, int to) {
  File* file = Get(fd);
  if (file == nullptr || to < 0 || to >= kMaxFds) return -EBADF;
  if (fd == to) return to;
  file->Ref();
  return InstallAt(to, file);
}

int FdTable::GetFdFlags(int fd) const {
  if (Get(fd) == nullptr) return -EBADF;
  return slots_[fd].cloexec ? FD_CLOEXEC : 0;
}

int FdTable::SetFdFlags(int fd, int flags) {
  if (Get(fd) == nullptr) return -EBADF;
  slots_[fd].cloexec = (flags & FD_CLOEXEC) != 0;
  return 0;
}

int FdTable::open_count() const {
  int n = 0;
  for (const Slot& slot : slots_) n += slot.file != nullptr;
  return n;
}

}  // namespace skiff::posix
