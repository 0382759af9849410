#include "runtime/libc/memfs.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <new>

namespace skiff::posix {

// Linux's values for d_type.
inline constexpr unsigned char kDtChr = 2, kDtDir = 4, kDtBlk = 6, kDtReg = 8;
// The most one write takes, as Linux's MAX_RW_COUNT.
inline constexpr size_t kMaxWrite = 0x7ffff000;

struct Node {
  enum class Kind : uint8_t { kFile, kDirectory, kDevice };

  Node(Filesystem* fs, Kind kind, mode_t mode) : fs(fs), kind(kind), mode(mode) {
    ino = fs->NextIno();
    Touch();
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node() = default;

  // The filesystem's clock now, as a timestamp.
  struct timespec Stamp() const {
    uint64_t ns = fs->Now();
    return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  }
  void Touch() { mtime = ctime = atime = Stamp(); }
  // Frees the node once no name leads to it and nothing has it open.
  void Release() {
    if (links == 0 && opens == 0) delete this;
  }
  bool is_directory() const { return kind == Kind::kDirectory; }
  int Chmod(mode_t bits) {
    mode = (mode & S_IFMT) | (bits & 07777);
    ctime = Stamp();
    return 0;
  }

  Filesystem* fs;
  Kind kind;
  mode_t mode;   // with the S_IFMT bits
  ino_t ino;
  nlink_t links = 0;   // names that lead here
  int opens = 0;       // open descriptions, and the working directory
  struct timespec atime, mtime, ctime;
};

struct RegularFile : Node {
  RegularFile(Filesystem* fs, mode_t mode) : Node(fs, Kind::kFile, S_IFREG | mode) {}
  ~RegularFile() override {
    fs->Uncharge(capacity);
    free(owned);
  }

  const char* bytes() const { return owned != nullptr ? owned : borrowed; }

  // Makes the bytes writable, with room for |length|; false when out of space.
  bool Reserve(size_t length) {
    if (length < size) length = size;
    if (owned != nullptr && length <= capacity) return true;
    size_t want = length > capacity * 2 ? length : capacity * 2;
    if (want < 64) want = 64;
    if (!fs->Charge(want - capacity)) {
      want = length;   // no room to grow ahead: exactly what is needed, if that fits
      if (!fs->Charge(want - capacity)) return false;
    }
    char* grown = static_cast<char*>(realloc(owned, want));
    if (grown == nullptr) {
      fs->Uncharge(want - capacity);
      return false;
    }
    if (owned == nullptr && size > 0) memcpy(grown, borrowed, size);
    owned = grown;
    borrowed = nullptr;
    capacity = want;
    return true;
  }

  int Resize(off_t length) {
    if (length < 0) return -EINVAL;
    size_t n = static_cast<size_t>(length);
    if (n > size) {
      if (!Reserve(n)) return -ENOSPC;
      memset(owned + size, 0, n - size);
    }
    size = n;
    Touch();
    return 0;
  }

  const char* borrowed = nullptr;   // bytes in the image, until first written
  char* owned = nullptr;
  size_t size = 0;
  size_t capacity = 0;   // of |owned|, charged to the filesystem
};

struct Directory : Node {
  struct Entry {
    char* name;
    Node* node;
  };

  Directory(Filesystem* fs, mode_t mode, Directory* parent)
      : Node(fs, Kind::kDirectory, S_IFDIR | mode), parent(parent ? parent : this) {}
  ~Directory() override { free(entries); }

  // The index of |name|, or where it would go.
  size_t Find(std::string_view name, bool* found) const {
    size_t low = 0, high = count;
    while (low < high) {
      size_t mid = (low + high) / 2;
      int c = name.compare(entries[mid].name);
      if (c == 0) {
        *found = true;
        return mid;
      }
      if (c < 0) high = mid; else low = mid + 1;
    }
    *found = false;
    return low;
  }
  Node* Lookup(std::string_view name) const {
    bool found;
    size_t i = Find(name, &found);
    return found ? entries[i].node : nullptr;
  }
  // Room for one more entry; false when out of memory.
  bool Grow() {
    if (count < capacity) return true;
    size_t want = capacity == 0 ? 8 : capacity * 2;
    auto* grown = static_cast<Entry*>(realloc(entries, want * sizeof(Entry)));
    if (grown == nullptr) return false;
    entries = grown;
    capacity = want;
    return true;
  }
  void Remove(std::string_view name) {
    bool found;
    size_t i = Find(name, &found);
    if (!found) return;
    Node* node = entries[i].node;
    free(entries[i].name);
    memmove(&entries[i], &entries[i + 1], (count - i - 1) * sizeof(Entry));
    count--;
    node->links--;
    if (node->is_directory()) static_cast<Directory*>(node)->parent = nullptr;
    Touch();
    node->Release();
  }
  // Points the existing |name| at |node| instead.
  void Replace(std::string_view name, Node* node) {
    bool found;
    size_t i = Find(name, &found);
    Node* old = entries[i].node;
    entries[i].node = node;
    node->links++;
    old->links--;
    if (old->is_directory()) static_cast<Directory*>(old)->parent = nullptr;
    Touch();
    old->Release();
  }
  int subdirectories() const {
    int n = 0;
    for (size_t i = 0; i < count; i++) n += entries[i].node->is_directory();
    return n;
  }
  // The name under which |child| is here.
  const char* NameOf(const Node* child) const {
    for (size_t i = 0; i < count; i++) {
      if (entries[i].node == child) return entries[i].name;
    }
    return nullptr;
  }
  bool removed() const { return parent == nullptr; }

  Entry* entries = nullptr;
  size_t count = 0;
  size_t capacity = 0;
  Directory* parent;   // itself for the root; nullptr once removed
};

struct Device : Node {
  Device(Filesystem* fs, Filesystem::DeviceOpen open, dev_t rdev, mode_t mode)
      : Node(fs, Kind::kDevice, mode), open(open), rdev(rdev) {}
  Filesystem::DeviceOpen open;
  dev_t rdev;
};

namespace {

void FillStat(const Node* node, struct stat* st) {
  *st = {};
  st->st_dev = 1;
  st->st_ino = node->ino;
  st->st_mode = node->mode;
  st->st_nlink = node->links;
  st->st_blksize = 4096;
  st->st_atim = node->atime;
  st->st_mtim = node->mtime;
  st->st_ctim = node->ctime;
  if (node->kind == Node::Kind::kFile) {
    auto* file = static_cast<const RegularFile*>(node);
    st->st_size = static_cast<off_t>(file->size);
    st->st_blocks = static_cast<blkcnt_t>((file->capacity + 511) / 512);
  } else if (node->is_directory()) {
    auto* dir = static_cast<const Directory*>(node);
    st->st_nlink = 2 + dir->subdirectories();
    st->st_size = 4096;
  } else {
    st->st_rdev = static_cast<const Device*>(node)->rdev;
  }
}

// New offset for lseek, or -errno.
off_t SeekTo(off_t offset, off_t current, off_t end, int whence) {
  off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? current : whence == SEEK_END ? end : -1;
  if (base < 0) return -EINVAL;
  off_t result;
  if (__builtin_add_overflow(base, offset, &result)) return -EOVERFLOW;
  return result < 0 ? -EINVAL : result;
}

// An open regular file.
class OpenFile final : public File {
 public:
  OpenFile(RegularFile* node, int flags) : File(flags), node_(node) { node_->opens++; }
  ~OpenFile() override {
    node_->opens--;
    node_->Release();
  }

  ssize_t Read(void* out, size_t len) override {
    ssize_t n = ReadAt(out, len, offset_);
    if (n > 0) offset_ += n;
    return n;
  }
  ssize_t Write(const void* data, size_t len) override {
    if (flags() & O_APPEND) offset_ = static_cast<off_t>(node_->size);
    ssize_t n = WriteAt(data, len, offset_);
    if (n > 0) offset_ += n;
    return n;
  }
  ssize_t ReadAt(void* out, size_t len, off_t offset) override {
    if (offset < 0) return -EINVAL;
    size_t at = static_cast<size_t>(offset);
    if (at >= node_->size) return 0;
    size_t n = len < node_->size - at ? len : node_->size - at;
    memcpy(out, node_->bytes() + at, n);
    return static_cast<ssize_t>(n);
  }
  ssize_t WriteAt(const void* data, size_t len, off_t offset) override {
    if (offset < 0) return -EINVAL;
    if (len == 0) return 0;
    if (len > kMaxWrite) len = kMaxWrite;
    off_t end;
    if (__builtin_add_overflow(offset, static_cast<off_t>(len), &end)) return -EFBIG;
    size_t at = static_cast<size_t>(offset);
    if (!node_->Reserve(static_cast<size_t>(end))) return -ENOSPC;
    if (at > node_->size) memset(node_->owned + node_->size, 0, at - node_->size);
    memcpy(node_->owned + at, data, len);
    if (static_cast<size_t>(end) > node_->size) node_->size = static_cast<size_t>(end);
    node_->Touch();
    return static_cast<ssize_t>(len);
  }
  off_t Seek(off_t offset, int whence) override {
    off_t to = SeekTo(offset, offset_, static_cast<off_t>(node_->size), whence);
    if (to >= 0) offset_ = to;
    return to;
  }
  int Stat(struct stat* st) override {
    FillStat(node_, st);
    return 0;
  }
  int Truncate(off_t length) override { return writable() ? node_->Resize(length) : -EINVAL; }
  int Chmod(mode_t mode) override { return node_->Chmod(mode); }

 private:
  RegularFile* node_;
  off_t offset_ = 0;
};

// An open directory, read with readdir: ".", "..", then the entries in name order. Its
// position is a count of entries, which lseek sets (rewinddir, seekdir).
class OpenDirectory final : public File {
 public:
  OpenDirectory(Directory* dir, int flags) : File(flags), dir_(dir) { dir_->opens++; }
  ~OpenDirectory() override {
    dir_->opens--;
    dir_->Release();
  }

  ssize_t Read(void*, size_t) override { return -EISDIR; }
  int ReadDirEntry(DirEntry* out) override {
    const Node* node;
    const char* name;
    if (position_ == 0) {
      node = dir_, name = ".";
    } else if (position_ == 1) {
      node = dir_->parent ? dir_->parent : dir_, name = "..";
    } else if (position_ - 2 < dir_->count) {
      node = dir_->entries[position_ - 2].node, name = dir_->entries[position_ - 2].name;
    } else {
      return 0;
    }
    position_++;
    out->ino = node->ino;
    out->type = node->is_directory() ? kDtDir : node->kind == Node::Kind::kFile ? kDtReg
                : S_ISBLK(node->mode)               ? kDtBlk
                                                    : kDtChr;
    strcpy(out->name, name);
    return 1;
  }
  off_t Seek(off_t offset, int whence) override {
    off_t to = SeekTo(offset, position_, static_cast<off_t>(dir_->count + 2), whence);
    if (to >= 0) position_ = static_cast<size_t>(to);
    return to;
  }
  int Stat(struct stat* st) override {
    FillStat(dir_, st);
    return 0;
  }
  int Chmod(mode_t mode) override { return dir_->Chmod(mode); }

 private:
  Directory* dir_;
  size_t position_ = 0;
};

bool IsDot(std::string_view name) { return name == "." || name == ".."; }

}  // namespace

// Where a path leads: the folder that holds its last name, the name, and the node under it
// (nullptr when there is none).
struct Filesystem::Walk {
  Directory* dir = nullptr;
  std::string_view name;   // empty for "/"
  Node* node = nullptr;
  bool trailing_slash = false;
};

Filesystem::Filesystem(const Options& options) : options_(options) {
  root_ = new Directory(this, 0755, nullptr);
  root_->links = 1;
  cwd_ = root_;
  cwd_->opens++;
}

Filesystem::~Filesystem() {
  // Everything still open is leaked, as at the end of a process; the tree itself is freed.
  struct Free {
    static void Tree(Directory* dir) {
      while (dir->count > 0) {
        Directory::Entry& e = dir->entries[dir->count - 1];
        if (e.node->is_directory()) Tree(static_cast<Directory*>(e.node));
        dir->Remove(e.name);
      }
    }
  };
  Free::Tree(root_);
  cwd_->opens--;
  if (cwd_ != root_) cwd_->Release();
  root_->links = 0;
  root_->opens = 0;
  delete root_;
}

bool Filesystem::Charge(uint64_t bytes) {
  if (bytes > options_.max_bytes - used_bytes_) return false;
  used_bytes_ += bytes;
  return true;
}

int Filesystem::Resolve(const char* path, Walk* walk) {
  if (path == nullptr) return -EFAULT;
  size_t length = strnlen(path, kPathMax);
  if (length == kPathMax) return -ENAMETOOLONG;
  if (length == 0) return -ENOENT;
  std::string_view rest(path, length);
  Directory* dir = rest[0] == '/' ? root_ : cwd_;
  *walk = {};
  while (true) {
    while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
    size_t end = rest.find('/');
    std::string_view name = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    bool last = rest.find_first_not_of('/') == std::string_view::npos;
    if (name.size() > kNameMax) return -ENAMETOOLONG;
    if (last) {
      walk->dir = dir;
      walk->name = name;
      walk->trailing_slash = !rest.empty();
      if (name.empty() || name == ".") {
        walk->node = dir;
      } else if (name == "..") {
        walk->node = dir->parent;
      } else {
        walk->node = dir->Lookup(name);
      }
      if (dir->removed() && walk->node == nullptr) return -ENOENT;
      if (walk->node && walk->trailing_slash && !walk->node->is_directory()) return -ENOTDIR;
      return 0;
    }
    Node* next = name == "." ? dir : name == ".." ? dir->parent : dir->Lookup(name);
    if (next == nullptr) return -ENOENT;
    if (!next->is_directory()) return -ENOTDIR;
    dir = static_cast<Directory*>(next);
  }
}

int Filesystem::AddEntry(Directory* dir, std::string_view name, Node* node) {
  bool found;
  size_t at = dir->Find(name, &found);
  if (found) return -EEXIST;
  char* copy = static_cast<char*>(malloc(name.size() + 1));
  if (copy == nullptr || !dir->Grow()) {
    free(copy);
    return -ENOSPC;
  }
  memcpy(copy, name.data(), name.size());
  copy[name.size()] = '\0';
  memmove(&dir->entries[at + 1], &dir->entries[at], (dir->count - at) * sizeof(Directory::Entry));
  dir->entries[at] = {copy, node};
  dir->count++;
  node->links++;
  if (node->is_directory()) static_cast<Directory*>(node)->parent = dir;
  dir->Touch();
  return 0;
}

// A regular file at a walk that found nothing.
int Filesystem::Create(Walk& walk, mode_t mode, Node** out) {
  if (walk.trailing_slash) return -EISDIR;
  auto* file = new (std::nothrow) RegularFile(this, mode & 07777 & ~umask_);
  if (file == nullptr) return -ENOSPC;
  if (int rc = AddEntry(walk.dir, walk.name, file); rc < 0) {
    delete file;
    return rc;
  }
  *out = file;
  return 0;
}

int Filesystem::Open(const char* path, int flags, mode_t mode, File** out) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  int access = flags & O_ACCMODE;
  if (access != O_RDONLY && access != O_WRONLY && access != O_RDWR) return -EINVAL;
  Node* node = walk.node;
  if (node == nullptr) {
    if (!(flags & O_CREAT)) return -ENOENT;
    if (int rc = Create(walk, mode, &node); rc < 0) return rc;
  } else if ((flags & O_CREAT) && (flags & O_EXCL)) {
    return -EEXIST;
  }
  File* file = nullptr;
  int status = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK);
  switch (node->kind) {
    case Node::Kind::kDirectory:
      if (access != O_RDONLY || (flags & (O_TRUNC | O_CREAT))) return -EISDIR;
      file = new (std::nothrow) OpenDirectory(static_cast<Directory*>(node), status);
      break;
    case Node::Kind::kFile:
      if (flags & O_DIRECTORY) return -ENOTDIR;
      if ((flags & O_TRUNC) && access != O_RDONLY) {
        if (int rc = static_cast<RegularFile*>(node)->Resize(0); rc < 0) return rc;
      }
      file = new (std::nothrow) OpenFile(static_cast<RegularFile*>(node), status);
      break;
    case Node::Kind::kDevice:
      if (flags & O_DIRECTORY) return -ENOTDIR;
      return static_cast<Device*>(node)->open(status, static_cast<Device*>(node)->rdev, out);
  }
  if (file == nullptr) return -ENOMEM;
  *out = file;
  return 0;
}

int Filesystem::Stat(const char* path, struct stat* st) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node == nullptr) return -ENOENT;
  FillStat(walk.node, st);
  return 0;
}

int Filesystem::Access(const char* path, int mode) {
  if (mode & ~(R_OK | W_OK | X_OK)) return -EINVAL;
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node == nullptr) return -ENOENT;
  // Root may read and write anything, and run what any x bit allows.
  if ((mode & X_OK) && !walk.node->is_directory() && !(walk.node->mode & 0111)) return -EACCES;
  return 0;
}

int Filesystem::Mkdir(const char* path, mode_t mode) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node != nullptr) return -EEXIST;
  auto* dir = new (std::nothrow) Directory(this, mode & 07777 & ~umask_, walk.dir);
  if (dir == nullptr) return -ENOSPC;
  if (int rc = AddEntry(walk.dir, walk.name, dir); rc < 0) {
    delete dir;
    return rc;
  }
  return 0;
}

int Filesystem::MkdirAll(const char* path, mode_t mode) {
  char partial[kPathMax];
  size_t length = strnlen(path, kPathMax);
  if (length == kPathMax) return -ENAMETOOLONG;
  for (size_t i = 1; i <= length; i++) {
    if (i < length && path[i] != '/') continue;
    memcpy(partial, path, i);
    partial[i] = '\0';
    int rc = Mkdir(partial, mode);
    if (rc < 0 && rc != -EEXIST) return rc;
  }
  struct stat st;
  if (int rc = Stat(path, &st); rc < 0) return rc;
  return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int Filesystem::Rmdir(const char* path) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node == nullptr) return -ENOENT;
  if (!walk.node->is_directory()) return -ENOTDIR;
  if (walk.name == ".") return -EINVAL;
  if (walk.node == root_) return -EBUSY;
  if (walk.name == ".." || static_cast<Directory*>(walk.node)->count > 0) return -ENOTEMPTY;
  walk.dir->Remove(walk.name);
  return 0;
}

int Filesystem::Unlink(const char* path) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node == nullptr) return -ENOENT;
  if (walk.node->is_directory()) return -EISDIR;
  walk.dir->Remove(walk.name);
  return 0;
}

int Filesystem::Rename(const char* from, const char* to) {
  Walk src, dst;
  if (int rc = Resolve(from, &src); rc < 0) return rc;
  if (src.node == nullptr) return -ENOENT;
  if (int rc = Resolve(to, &dst); rc < 0) return rc;
  if (IsDot(src.name) || IsDot(dst.name) || src.node == root_ || dst.node == root_) {
    return -EBUSY;
  }
  if (src.trailing_slash && !src.node->is_directory()) return -ENOTDIR;
  if (dst.node == src.node) return 0;
  if (src.node->is_directory()) {
    // Not into itself or anything below it.
    for (Directory* d = dst.dir; d != root_ && d != nullptr; d = d->parent) {
      if (d == src.node) return -EINVAL;
    }
    if (dst.node != nullptr && !dst.node->is_directory()) return -ENOTDIR;
    if (dst.node != nullptr && static_cast<Directory*>(dst.node)->count > 0) return -ENOTEMPTY;
  } else {
    if (dst.trailing_slash) return -ENOTDIR;
    if (dst.node != nullptr && dst.node->is_directory()) return -EISDIR;
  }
  // The new name is in place before the old one goes: nothing is lost if memory runs out.
  Node* node = src.node;
  node->opens++;   // held while its names change
  int rc = 0;
  if (dst.node != nullptr) {
    dst.dir->Replace(dst.name, node);
  } else {
    rc = AddEntry(dst.dir, dst.name, node);
  }
  if (rc == 0) src.dir->Remove(src.name);
  if (rc == 0 && node->is_directory()) static_cast<Directory*>(node)->parent = dst.dir;
  node->opens--;
  node->Release();
  return rc;
}

int Filesystem::Link(const char* from, const char* to) {
  Walk src, dst;
  if (int rc = Resolve(from, &src); rc < 0) return rc;
  if (src.node == nullptr) return -ENOENT;
  if (src.node->is_directory()) return -EPERM;
  if (int rc = Resolve(to, &dst); rc < 0) return rc;
  if (dst.node != nullptr) return -EEXIST;
  if (dst.trailing_slash) return -ENOENT;
  return AddEntry(dst.dir, dst.name, src.node);
}

int Filesystem::Truncate(const char* path, off_t size) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node == nullptr) return -ENOENT;
  if (walk.node->is_directory()) return -EISDIR;
  if (walk.node->kind != Node::Kind::kFile) return -EINVAL;
  return static_cast<RegularFile*>(walk.node)->Resize(size);
}

int Filesystem::Chmod(const char* path, mode_t mode) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node == nullptr) return -ENOENT;
  return walk.node->Chmod(mode);
}

int Filesystem::Chdir(const char* path) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node == nullptr) return -ENOENT;
  if (!walk.node->is_directory()) return -ENOTDIR;
  walk.node->opens++;
  cwd_->opens--;
  cwd_->Release();
  cwd_ = static_cast<Directory*>(walk.node);
  return 0;
}

int Filesystem::Getcwd(char* buffer, size_t size) {
  if (cwd_->removed()) return -ENOENT;
  // Built from the end: each folder's name, found in its parent.
  char path[kPathMax];
  size_t at = sizeof(path) - 1;
  path[at] = '\0';
  for (Directory* d = cwd_; d != root_; d = d->parent) {
    const char* name = d->parent->NameOf(d);
    size_t length = strlen(name);
    if (at < length + 1) return -ENAMETOOLONG;
    at -= length;
    memcpy(path + at, name, length);
    path[--at] = '/';
  }
  if (at == sizeof(path) - 1) path[--at] = '/';
  size_t length = sizeof(path) - 1 - at;
  if (length + 1 > size) return -ERANGE;
  memcpy(buffer, path + at, length + 1);
  return static_cast<int>(length);
}

mode_t Filesystem::Umask(mode_t mask) {
  mode_t old = umask_;
  umask_ = mask & 0777;
  return old;
}

int Filesystem::AddFile(const char* path, const void* data, size_t size, mode_t mode) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.name.empty() || IsDot(walk.name) || walk.trailing_slash) return -EINVAL;
  if (walk.node != nullptr && walk.node->kind != Node::Kind::kFile) return -EEXIST;
  auto* file = new (std::nothrow) RegularFile(this, mode & 07777);
  if (file == nullptr) return -ENOSPC;
  file->borrowed = static_cast<const char*>(data);
  file->size = size;
  if (walk.node != nullptr) {   // a later copy replaces the file, as tar -x does
    walk.dir->Replace(walk.name, file);
    return 0;
  }
  if (int rc = AddEntry(walk.dir, walk.name, file); rc < 0) {
    delete file;
    return rc;
  }
  return 0;
}

int Filesystem::AddDevice(const char* path, DeviceOpen open, dev_t rdev, mode_t mode) {
  Walk walk;
  if (int rc = Resolve(path, &walk); rc < 0) return rc;
  if (walk.node != nullptr) return -EEXIST;
  auto* device = new (std::nothrow) Device(this, open, rdev, mode);
  if (device == nullptr) return -ENOSPC;
  if (int rc = AddEntry(walk.dir, walk.name, device); rc < 0) {
    delete device;
    return rc;
  }
  return 0;
}

}  // namespace skiff::posix
