// Disks under Xen with real blkback, through skiff/block.h and through /dev/xvda. The system
// test (tests/system/test_blk.py) checks the other side from dom0 and the host:
//   data    reads the pattern the host wrote (its sha256), writes its own pattern and stdio
//           text for dom0 to check, then disks dom0 attaches: one with 4096-byte sectors and
//           a read-only one
//   flush   writes and flushes, then waits for dom0 to xl destroy it
//   detach  keeps I/O going while dom0 detaches the disk and attaches it again
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "skiff/block.h"
#include "skiff/coro.h"
#include "skiff/sched.h"
#include "tests/guest/blk/sha256.h"
#include "tests/guest/check.h"

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// The guest's pattern: the host's test computes the same bytes.
uint8_t PatternAt(uint64_t pos) {
  return static_cast<uint8_t>(((pos >> 9) * 31 + (pos & 511) * 7 + 0x5a) & 0xff);
}
void FillPattern(uint8_t* data, uint64_t pos, size_t n) {
  for (size_t i = 0; i < n; i++) data[i] = PatternAt(pos + i);
}

std::string Digest(const void* data, size_t n) {
  Sha256 sha;
  sha.Update(data, n);
  char hex[65];
  sha.Finish(hex);
  return hex;
}

void PrintFeatures(const skiff::BlockInfo& info) {
  const skiff::BlockFeatures& f = info.features;
  printf("%s: %llu bytes, sector %u, physical %u, read-only %d, flush %d, barrier %d, "
         "discard %d (granularity %llu), persistent %d, indirect %u, ring pages %u, "
         "queues %u of %u\n",
         info.name.c_str(), static_cast<unsigned long long>(info.size), info.sector_size,
         info.physical_sector_size, info.read_only, f.flush, f.barrier, f.discard,
         static_cast<unsigned long long>(f.discard_granularity), f.persistent,
         f.indirect_segments, f.ring_pages, f.queues, f.max_queues);
}

void PrintUse(skiff::Disk* disk, const char* when) {
  skiff::BlockStats s = disk->stats();
  printf("%s %s: %u grants, %u pages, %llu ring requests (%llu indirect)\n",
         disk->info().name.c_str(), when, s.grants, s.pages,
         static_cast<unsigned long long>(s.ring_requests),
         static_cast<unsigned long long>(s.indirect_requests));
}

skiff::Co<skiff::Result<void>> ReadInCoroutine(skiff::Disk* disk, void* data, size_t n) {
  skiff::BlockRequest request;
  skiff::Result<void> started = disk->StartRead(request, 0, {{data, n}});
  if (!started.ok()) co_return started;
  co_return co_await request;
}

int Data() {
  std::vector<skiff::BlockInfo> disks = skiff::ListDisks();
  if (!Check(disks.size() == 1 && disks[0].name == "xvda", "ListDisks has xvda")) return 1;
  PrintFeatures(disks[0]);
  const uint64_t size = disks[0].size;
  Check(size == 8 * kMiB && disks[0].sector_size == 512 && disks[0].connected,
        "xvda is 8 MiB of 512-byte sectors, connected");
  Check(disks[0].features.indirect_segments > 11 && disks[0].features.persistent &&
            disks[0].features.flush,
        "blkback gave indirect requests, persistent grants and flush");
  skiff::Disk* disk = skiff::OpenDisk("xvda").value();
  PrintUse(disk, "at rest");

  // dom0's pattern, read in 1 MiB requests.
  std::unique_ptr<uint8_t[]> whole(new uint8_t[size]);
  bool read_ok = true;
  for (uint64_t at = 0; at < size; at += kMiB) read_ok &= disk->Read(at, &whole[at], kMiB).ok();
  Check(read_ok, "reads the disk in 1 MiB requests");
  printf("dom0's pattern: sha256 %s\n", Digest(whole.get(), size).c_str());
  PrintUse(disk, "after 1 MiB reads");

  // The same bytes with 64 reads of 4 KiB in flight at once, into odd addresses.
  std::unique_ptr<uint8_t[]> scattered(new uint8_t[64 * 4096 + 64]);
  skiff::BlockRequest requests[64];
  bool started = true;
  for (int i = 0; i < 64; i++) {
    uint64_t at = (uint64_t(i) * 37 % 64) * 65536;
    started &= disk->StartRead(requests[i], at, {{&scattered[i * 4096 + 3], 4096}}).ok();
  }
  bool same = started;
  for (int i = 0; i < 64; i++) {
    same &= requests[i].Wait().ok() &&
            memcmp(&scattered[i * 4096 + 3], &whole[(uint64_t(i) * 37 % 64) * 65536], 4096) == 0;
  }
  Check(same, "64 reads in flight at once, into unaligned buffers, match");

  // A coroutine awaits a request.
  uint8_t first[4096];
  skiff::Result<void> from_co = skiff::BlockOn(ReadInCoroutine(disk, first, sizeof(first)));
  Check(from_co.ok() && memcmp(first, whole.get(), sizeof(first)) == 0,
        "a coroutine co_awaits a read");

  // The guest's pattern over [4 MiB, 8 MiB): one 1 MiB write, then writes of odd sizes.
  std::unique_ptr<uint8_t[]> mine(new uint8_t[4 * kMiB]);
  FillPattern(mine.get(), 4 * kMiB, 4 * kMiB);
  bool wrote = disk->Write(4 * kMiB, mine.get(), kMiB).ok();
  const size_t sizes[] = {512, 4096 + 512, 45056, 300 * 1024, 1024 * 1024 + 4096, 4096};
  uint64_t at = 5 * kMiB;
  for (int i = 0; at < 8 * kMiB; i++) {
    size_t n = sizes[i % 6];
    if (at + n > 8 * kMiB) n = 8 * kMiB - at;
    skiff::BlockBuffer split[] = {{&mine[at - 4 * kMiB], n / 2 / 512 * 512 + 100},
                                  {&mine[at - 4 * kMiB + n / 2 / 512 * 512 + 100],
                                   n - n / 2 / 512 * 512 - 100}};
    wrote &= (n >= 1024 ? disk->Writev(at, split) : disk->Write(at, &mine[at - 4 * kMiB], n)).ok();
    at += n;
  }
  Check(wrote, "writes 1 MiB, then writes of 512 bytes to 1 MiB + 4 KiB, in two pieces each");
  Check(disk->Flush().ok(), "flushes");
  std::unique_ptr<uint8_t[]> back(new uint8_t[4 * kMiB]);
  Check(disk->Read(4 * kMiB, back.get(), 4 * kMiB).ok() &&
            memcmp(back.get(), mine.get(), 4 * kMiB) == 0,
        "reads its pattern back");
  printf("guest's pattern: sha256 %s\n", Digest(mine.get(), 4 * kMiB).c_str());

  // Bad requests: clear errors, and the disk goes on.
  uint8_t sector[512];
  skiff::Result<void> past = disk->Read(size - 512, sector, 1024);
  printf("read past the end: %s\n", past.ok() ? "ok" : past.error().message.c_str());
  Check(!past.ok() && past.error().code == EINVAL, "a read past the end is EINVAL");
  skiff::Result<void> odd = disk->Read(100, sector, 512);
  printf("misaligned read: %s\n", odd.ok() ? "ok" : odd.error().message.c_str());
  Check(!odd.ok() && odd.error().code == EINVAL, "a read not in whole sectors is EINVAL");
  Check(disk->Read(size - 512, sector, 512).ok(), "the disk goes on: its last sector reads");

  // Through the descriptor table, as ported code uses a disk.
  int fd = open("/dev/xvda", O_RDWR);
  Check(fd >= 0, "open(\"/dev/xvda\", O_RDWR)");
  struct stat st;
  Check(fstat(fd, &st) == 0 && S_ISBLK(st.st_mode), "fstat says a block device");
  Check(lseek(fd, 0, SEEK_END) == static_cast<off_t>(size), "lseek(SEEK_END) is the size");
  char text[512];
  Check(pread(fd, text, 100, 3 * kMiB + 10) == 100 && memcmp(text, &whole[3 * kMiB + 10], 100) == 0,
        "pread of 100 bytes at an odd offset");
  Check(pwrite(fd, "across a sector boundary", 24, 3 * kMiB + 500) == 24 &&
            pread(fd, text, 24, 3 * kMiB + 500) == 24 &&
            memcmp(text, "across a sector boundary", 24) == 0 &&
            pread(fd, text, 12, 3 * kMiB + 488) == 12 && memcmp(text, &whole[3 * kMiB + 488], 12) == 0,
        "pwrite across a sector boundary keeps the bytes around it");
  Check(pread(fd, text, 10, size) == 0, "a read at the end gives 0");
  errno = 0;
  Check(pwrite(fd, "x", 1, size) == -1 && errno == ENOSPC, "a write at the end is ENOSPC");
  Check(close(fd) == 0, "close");
  FILE* f = fopen("/dev/xvda", "r+");
  bool stdio_ok = f != nullptr && fseek(f, 3 * kMiB + 4096, SEEK_SET) == 0 &&
                  fprintf(f, "hello from stdio on xvda\n") == 25 && fflush(f) == 0 &&
                  fsync(fileno(f)) == 0 && fclose(f) == 0;
  Check(stdio_ok, "fopen, fseek, fprintf, fflush, fsync and fclose on /dev/xvda");
  Check(disk->Read(3 * kMiB + 4096, text, 512).ok() &&
            memcmp(text, "hello from stdio on xvda\n", 25) == 0,
        "the disk has what stdio wrote");
  PrintUse(disk, "after the tests");
  printf("ready for dom0\n");
  fflush(stdout);

  // A disk with 4096-byte sectors, attached by dom0.
  skiff::Result<skiff::Disk*> big = skiff::WaitForDisk("xvdb", skiff::Now() + 120'000'000'000);
  if (Check(big.ok(), "xvdb (4096-byte sectors) is attached at run time")) {
    skiff::Disk* d = *big;
    PrintFeatures(d->info());
    Check(d->info().sector_size == 4096, "xvdb has 4096-byte sectors");
    std::unique_ptr<uint8_t[]> buf(new uint8_t[8192]), in(new uint8_t[8192]);
    FillPattern(buf.get(), 0, 8192);
    Check(d->Write(4096, buf.get(), 8192).ok() && d->Read(4096, in.get(), 8192).ok() &&
              memcmp(buf.get(), in.get(), 8192) == 0,
          "writes and reads 8 KiB on 4096-byte sectors");
    skiff::Result<void> small = d->Read(512, in.get(), 512);
    printf("512 bytes on xvdb: %s\n", small.ok() ? "ok" : small.error().message.c_str());
    Check(!small.ok() && small.error().code == EINVAL, "512 bytes on it are EINVAL");
    int bfd = open("/dev/xvdb", O_RDWR);
    Check(bfd >= 0 && pwrite(bfd, "four k", 6, 4096 + 100) == 6 && pread(bfd, text, 6, 4096 + 100) == 6 &&
              memcmp(text, "four k", 6) == 0 && pread(bfd, text, 100, 4096) == 100 &&
              memcmp(text, buf.get(), 100) == 0 && close(bfd) == 0,
          "pwrite of 6 bytes into a 4096-byte sector keeps the rest");
  }
  // A read-only disk.
  skiff::Result<skiff::Disk*> ro = skiff::WaitForDisk("xvdc", skiff::Now() + 120'000'000'000);
  if (Check(ro.ok(), "xvdc (read-only) is attached at run time")) {
    skiff::Disk* d = *ro;
    Check(d->info().read_only, "xvdc says it is read-only");
    skiff::Result<void> w = d->Write(0, sector, 512);
    printf("write to xvdc: %s\n", w.ok() ? "ok" : w.error().message.c_str());
    Check(!w.ok() && w.error().code == EROFS, "a write to it is EROFS");
    Check(d->Read(0, sector, 512).ok(), "it reads");
    errno = 0;
    Check(open("/dev/xvdc", O_RDWR) == -1 && errno == EROFS, "open(O_RDWR) of it is EROFS");
  }
  return failures;
}

int Flush() {
  skiff::Disk* disk = skiff::OpenDisk("xvda").value();
  std::unique_ptr<uint8_t[]> data(new uint8_t[2 * kMiB]);
  FillPattern(data.get(), 0, 2 * kMiB);
  Check(disk->Write(0, data.get(), 2 * kMiB).ok(), "writes 2 MiB");
  Check(disk->Flush().ok(), "flushes");
  printf("flushed; waiting for xl destroy\n");
  fflush(stdout);
  skiff::SleepFor(600'000'000'000);
  return Fail("was not destroyed");
}

// Writes and reads back 8 blocks of 64 KiB at once, again and again, while dom0 detaches the
// disk and attaches it again.
int Detach() {
  skiff::Disk* disk = skiff::OpenDisk("xvda").value();
  constexpr int kBlocks = 8;
  constexpr size_t kBlock = 65536;
  std::vector<std::vector<uint8_t>> out(kBlocks, std::vector<uint8_t>(kBlock)),
      in(kBlocks, std::vector<uint8_t>(kBlock));
  uint64_t deadline = skiff::Now() + 150'000'000'000;
  bool saw_gone = false, all_ok = true;
  int after = -1, round = 0;
  for (; skiff::Now() < deadline && after != 0; round++) {
    skiff::BlockRequest writes[kBlocks], reads[kBlocks];
    for (int b = 0; b < kBlocks; b++) {
      for (size_t i = 0; i < kBlock; i += 8) memcpy(&out[b][i], &round, sizeof(round));
      out[b][b] = static_cast<uint8_t>(b);
      all_ok &= disk->StartWrite(writes[b], b * kBlock * 3, {{out[b].data(), kBlock}}).ok();
    }
    for (auto& w : writes) {
      skiff::Result<void> r = w.Wait();
      if (!r.ok()) printf("round %d: %s\n", round, r.error().message.c_str());
      all_ok &= r.ok();
    }
    for (int b = 0; b < kBlocks; b++) {
      all_ok &= disk->StartRead(reads[b], b * kBlock * 3, {{in[b].data(), kBlock}}).ok();
    }
    for (int b = 0; b < kBlocks; b++) all_ok &= reads[b].Wait().ok() && in[b] == out[b];
    if (!all_ok) break;
    if (round == 3) {
      printf("ready for dom0\n");
      fflush(stdout);
    }
    if (disk->stats().connects > 1) saw_gone = true;
    if (saw_gone && after < 0) after = 20;   // then 20 more rounds on the new connection
    if (after > 0) after--;
  }
  printf("%d rounds, %llu ring requests sent again\n", round,
         static_cast<unsigned long long>(disk->stats().reissued));
  Check(saw_gone, "the disk went away and came back while its I/O ran");
  Check(all_ok, "every request of every round succeeded and read back what was written");
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "data") return Data();
  if (mode == "flush") return Flush();
  if (mode == "detach") return Detach();
  printf("usage: blk_test data|flush|detach\n");
  return 2;
}
