// apps/blkbench's figures with Linux's primitives, for the Linux peer: the same figures,
// offsets, bounds and line format (apps/blkbench/workload.h), so that scripts/bench can set
// them side by side. Run as the peer's /init program: blkbench_linux [--after-line] [DEVICE]
//
//   DEVICE        the disk, /dev/xvda by default (xen-blkfront, which the peer's /init loads)
//   --after-line  first wait for a line on stdin (the console): scripts/bench has dom0 type
//                 one once the disk file behind the peer's xvda is written in full
//
// The disk is opened with O_DIRECT, so no request stops in the page cache; buffers are
// page-aligned. Reads and writes go through Linux's native AIO (io_submit, io_getevents, by
// system call: no libaio), which with O_DIRECT is asynchronous down to blkfront: queue depth
// N is N requests in flight from one thread, as in apps/blkbench (and fio's libaio engine);
// a request's latency runs from its io_submit to the io_getevents that returns it. A flush
// is fdatasync(), which sends the disk a cache flush; the flush figures are depth 1.
//
// Built statically by scripts/bench with the host's g++ (g++ -O2 -static -pthread -I REPO)
// into build/peer/blkbench_linux/, and packed into the peer's initramfs by
// scripts/lib/sandbox/peer.py.
#include <fcntl.h>
#include <errno.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "apps/blkbench/workload.h"

namespace {

using blkbench::Op;

uint64_t Clock() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

class LinuxDisk : public blkbench::Device {
 public:
  LinuxDisk(int fd, uint64_t size) : fd_(fd), size_(size) {}

  uint64_t Size() override { return size_; }
  uint64_t Now() override { return Clock(); }

  bool Run(const char* name, Op op, size_t size, int depth, uint64_t count, uint64_t deadline,
           const blkbench::Offsets& offset, std::vector<uint64_t>& latencies) override {
    if (op == Op::kFlush || op == Op::kWriteFlush) return Sync(name, op, size, count, deadline,
                                                               offset, latencies);
    aio_context_t context = 0;
    if (syscall(SYS_io_setup, depth, &context) != 0) {
      printf("%s: io_setup: %s\n", name, strerror(errno));
      return false;
    }
    std::vector<iocb> blocks(depth);
    std::vector<void*> buffers(depth);
    std::vector<uint64_t> started(depth);
    for (int slot = 0; slot < depth; slot++) {
      buffers[slot] = aligned_alloc(4096, size);
      Pattern(buffers[slot], size, slot + 1);
    }
    uint64_t next = 0;
    int in_flight = 0;
    bool ok = true;
    auto start = [&](int slot) {
      iocb& block = blocks[slot];
      memset(&block, 0, sizeof(block));
      block.aio_data = slot;
      block.aio_lio_opcode = op == Op::kRead ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE;
      block.aio_fildes = fd_;
      block.aio_buf = reinterpret_cast<uint64_t>(buffers[slot]);
      block.aio_nbytes = size;
      block.aio_offset = offset(next);
      iocb* one = &block;
      started[slot] = Clock();
      if (syscall(SYS_io_submit, context, 1, &one) != 1) {
        printf("%s: request %lu at %llu: io_submit: %s\n", name, next, block.aio_offset,
               strerror(errno));
        ok = false;
        return;
      }
      next++;
      in_flight++;
    };
    auto more = [&] { return ok && next < count && Clock() < deadline; };
    for (int slot = 0; slot < depth && more(); slot++) start(slot);
    std::vector<io_event> events(depth);
    while (in_flight > 0) {
      long n = syscall(SYS_io_getevents, context, 1, depth, events.data(), nullptr);
      uint64_t now = Clock();
      if (n < 0) {
        if (errno == EINTR) continue;
        printf("%s: io_getevents: %s\n", name, strerror(errno));
        ok = false;
        break;
      }
      for (long e = 0; e < n; e++) {
        int slot = int(events[e].data);
        if (events[e].res != int64_t(size)) {
          printf("%s: a request at %llu: %s\n", name, blocks[slot].aio_offset,
                 events[e].res < 0 ? strerror(int(-events[e].res)) : "short");
          ok = false;
        }
        latencies.push_back(now - started[slot]);
        in_flight--;
        if (more()) start(slot);
      }
    }
    syscall(SYS_io_destroy, context);
    for (void* buffer : buffers) free(buffer);
    return ok;
  }

  bool Transfer(Op op, uint64_t offset, void* data, size_t size) override {
    void* buffer = aligned_alloc(4096, size);
    if (op == Op::kWrite) memcpy(buffer, data, size);
    bool ok = Do(op, offset, buffer, size);
    if (!ok) printf("blkbench: %s of %zu bytes at %lu: %s\n", op == Op::kWrite ? "write" : "read",
                    size, offset, strerror(errno));
    if (ok && op == Op::kRead) memcpy(data, buffer, size);
    free(buffer);
    return ok;
  }

 private:
  bool Do(Op op, uint64_t offset, void* buffer, size_t size) {
    switch (op) {
      case Op::kRead:
        return pread(fd_, buffer, size, off_t(offset)) == ssize_t(size);
      case Op::kWrite:
        return pwrite(fd_, buffer, size, off_t(offset)) == ssize_t(size);
      case Op::kFlush:
        return fdatasync(fd_) == 0;
      case Op::kWriteFlush:
        return pwrite(fd_, buffer, size, off_t(offset)) == ssize_t(size) && fdatasync(fd_) == 0;
    }
    return false;
  }

  // One request at a time, with pwrite and fdatasync.
  bool Sync(const char* name, Op op, size_t size, uint64_t count, uint64_t deadline,
            const blkbench::Offsets& offset, std::vector<uint64_t>& latencies) {
    void* buffer = aligned_alloc(4096, size ? size : 4096);
    Pattern(buffer, size, 1);
    bool ok = true;
    for (uint64_t i = 0; i < count && Clock() < deadline; i++) {
      uint64_t start = Clock();
      if (!Do(op, offset(i), buffer, size)) {
        printf("%s: request %lu at %lu: %s\n", name, i, offset(i), strerror(errno));
        ok = false;
        break;
      }
      latencies.push_back(Clock() - start);
    }
    free(buffer);
    return ok;
  }

  int fd_;
  uint64_t size_;
};

std::string ReadLine(const std::string& path) {
  char line[256] = "";
  if (FILE* f = fopen(path.c_str(), "r")) {
    if (!fgets(line, sizeof(line), f)) line[0] = 0;
    fclose(f);
  }
  line[strcspn(line, "\n")] = 0;
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const char* path = "/dev/xvda";
  bool after_line = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--after-line") == 0) {
      after_line = true;
    } else {
      path = argv[i];
    }
  }
  if (after_line) {
    printf("blkbench: waiting for a line on stdin\n");
    char line[64];
    if (!fgets(line, sizeof(line), stdin)) {
      printf("blkbench: stdin ended before its line\n");
      return 2;
    }
  }
  int fd = -1;
  for (int tries = 0; tries < 100 && fd < 0; tries++) {   // blkfront probes in the background
    fd = open(path, O_RDWR | O_DIRECT);
    if (fd < 0) usleep(100000);
  }
  if (fd < 0) {
    printf("blkbench: %s: %s\n", path, strerror(errno));
    return 1;
  }
  uint64_t size = 0;
  int sector = 0;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {   // a disk image, to try it on a host
    size = st.st_size;
    sector = 512;
  } else if (ioctl(fd, BLKGETSIZE64, &size) != 0 || ioctl(fd, BLKSSZGET, &sector) != 0) {
    printf("blkbench: %s: not a block device: %s\n", path, strerror(errno));
    return 1;
  }
  std::string name = strrchr(path, '/') + 1;
  std::string queue = "/sys/block/" + name + "/queue/";
  printf("disk %s: %lu bytes, logical sector %d, cache %s, max request %s KiB, "
         "%s segments\n", name.c_str(), size, sector, ReadLine(queue + "write_cache").c_str(),
         ReadLine(queue + "max_sectors_kb").c_str(), ReadLine(queue + "max_segments").c_str());
  LinuxDisk disk(fd, size);
  bool ok = blkbench::RunAll(disk);
  ok = blkbench::Verify(disk) && ok;
  printf("blkbench: done\n");
  return ok ? 0 : 1;
}
