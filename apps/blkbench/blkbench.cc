// Block storage from inside the guest: blkbench [--after KEY] [DISK]
//
//   DISK         the disk to measure, all of it: xvda by default. Its contents are lost.
//   --after KEY  first wait, halted, until xenstore KEY exists; scripts/bench has dom0 write
//                it once the disk file is written in full and the Linux peer has finished.
//
// The figures, their bounds and their lines are apps/blkbench/workload.h's, shared with the
// Linux peer (tests/peer/blkbench_linux.cc). Queue depth N is N BlockRequests in flight from
// this one task: start N, then wait for the oldest and start the next in its place; a
// request's latency runs from its Start to the return of its Wait. After each figure,
// "blkfront NAME: ..." gives the driver's grants and pages (BlockStats): the most seen while
// it ran, and after it; "blkfront at rest: ..." before the first figure.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/blkbench/workload.h"
#include "runtime/xen/xenstore.h"
#include "skiff/block.h"
#include "skiff/sched.h"

namespace {

using blkbench::Op;

class SkiffDisk : public blkbench::Device {
 public:
  explicit SkiffDisk(skiff::Disk* disk) : disk_(disk) {}

  uint64_t Size() override { return disk_->info().size; }
  uint64_t Now() override { return skiff::Now(); }

  bool Run(const char* name, Op op, size_t size, int depth, uint64_t count, uint64_t deadline,
           const blkbench::Offsets& offset, std::vector<uint64_t>& latencies) override {
    most_ = {};
    std::vector<char*> buffers(depth);
    for (int slot = 0; slot < depth; slot++) {
      buffers[slot] = static_cast<char*>(aligned_alloc(4096, std::max<size_t>(size, 4096)));
      Pattern(buffers[slot], size, slot + 1);
    }
    bool ok = op == Op::kWriteFlush
                  ? WriteFlush(name, size, count, deadline, offset, buffers[0], latencies)
                  : Queue(name, op, size, depth, count, deadline, offset, buffers, latencies);
    for (char* buffer : buffers) free(buffer);
    return ok;
  }

  bool Transfer(Op op, uint64_t offset, void* data, size_t size) override {
    auto done = op == Op::kWrite ? disk_->Write(offset, data, size)
                                 : disk_->Read(offset, data, size);
    if (!done) printf("blkbench: %s: %s\n", op == Op::kWrite ? "write" : "read",
                      done.error().message.c_str());
    return done.ok();
  }

  void Note(const char* name) override {
    skiff::BlockStats now = disk_->stats();
    printf("blkfront %s: most %u grants, %u pages, %u in flight; after it %u grants, "
           "%u pages\n", name, most_.grants, most_.pages, most_.in_flight, now.grants,
           now.pages);
  }

  void Sample() {
    skiff::BlockStats now = disk_->stats();
    most_.grants = std::max(most_.grants, now.grants);
    most_.pages = std::max(most_.pages, now.pages);
    most_.in_flight = std::max(most_.in_flight, now.in_flight);
  }

 private:
  // |depth| requests in flight: slots head, head + 1, ... hold them, oldest first.
  bool Queue(const char* name, Op op, size_t size, int depth, uint64_t count,
             uint64_t deadline, const blkbench::Offsets& offset, std::vector<char*>& buffers,
             std::vector<uint64_t>& latencies) {
    auto requests = std::make_unique<skiff::BlockRequest[]>(depth);
    std::vector<uint64_t> started(depth);
    uint64_t next = 0;
    int head = 0, in_flight = 0;
    bool ok = true;
    auto start = [&]() {
      int slot = (head + in_flight) % depth;
      skiff::BlockRequest& request = requests[slot];
      uint64_t at = offset(next);
      started[slot] = skiff::Now();
      auto sent = op == Op::kFlush ? disk_->StartFlush(request)
                  : op == Op::kRead
                      ? disk_->StartRead(request, at, {{buffers[slot], size}})
                      : disk_->StartWrite(request, at, {{buffers[slot], size}});
      next++;
      if (!sent) {
        printf("%s: request %lu at %lu: %s\n", name, next - 1, at, sent.error().message.c_str());
        ok = false;
        return;
      }
      in_flight++;
      Sample();
    };
    auto more = [&] { return ok && next < count && skiff::Now() < deadline; };
    while (in_flight < depth && more()) start();
    while (in_flight > 0) {
      auto done = requests[head].Wait();
      uint64_t now = skiff::Now();
      if (!done) {
        printf("%s: a request failed: %s\n", name, done.error().message.c_str());
        ok = false;
      }
      latencies.push_back(now - started[head]);
      head = (head + 1) % depth;
      in_flight--;
      if (more()) start();
    }
    return ok;
  }

  // A write, then a flush, one after the other; the latency is the two together.
  bool WriteFlush(const char* name, size_t size, uint64_t count, uint64_t deadline,
                  const blkbench::Offsets& offset, char* buffer,
                  std::vector<uint64_t>& latencies) {
    for (uint64_t i = 0; i < count && skiff::Now() < deadline; i++) {
      uint64_t start = skiff::Now();
      auto done = disk_->Write(offset(i), buffer, size);
      if (done) done = disk_->Flush();
      if (!done) {
        printf("%s: request %lu: %s\n", name, i, done.error().message.c_str());
        return false;
      }
      latencies.push_back(skiff::Now() - start);
    }
    Sample();
    return true;
  }

  skiff::Disk* disk_;
  skiff::BlockStats most_;
};

// Waits until xenstore |key| exists.
bool WaitForKey(const char* key) {
  auto store = skiff::xen::Xenstore();
  if (!store) {
    printf("blkbench: --after %s: %s\n", key, store.error().message.c_str());
    return false;
  }
  skiff::Event changed;
  auto watch = (*store)->Watch(key, [&](std::string_view) { changed.Signal(); });
  if (!watch) {
    printf("blkbench: --after %s: %s\n", key, watch.error().message.c_str());
    return false;
  }
  while (!(*store)->Read(key).ok()) changed.Wait();
  (void)(*store)->Unwatch(*watch);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* after = nullptr;
  const char* name = "xvda";
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--after" && i + 1 < argc) {
      after = argv[++i];
    } else {
      name = argv[i];
    }
  }
  auto disk = skiff::OpenDisk(name);
  if (!disk) {
    printf("blkbench: %s\n", disk.error().message.c_str());
    return 1;
  }
  skiff::BlockInfo info = (*disk)->info();
  const skiff::BlockFeatures& f = info.features;
  printf("disk %s: %lu bytes, logical sector %u, %s%s%s%sindirect %u segments, ring %u "
         "pages, %u queue(s)\n", info.name.c_str(), info.size, info.sector_size,
         info.read_only ? "read-only, " : "", f.flush ? "flush, " : "",
         f.barrier ? "barrier, " : "", f.persistent ? "persistent grants, " : "",
         f.indirect_segments, f.ring_pages, f.queues);
  if (after != nullptr && !WaitForKey(after)) return 2;
  SkiffDisk bench(*disk);
  skiff::BlockStats rest = (*disk)->stats();
  printf("blkfront at rest: %u grants, %u pages\n", rest.grants, rest.pages);
  bool ok = blkbench::RunAll(bench);
  ok = blkbench::Verify(bench) && ok;
  skiff::BlockStats end = (*disk)->stats();
  printf("blkfront at the end: %u grants, %u pages; %lu requests, %lu on the ring (%lu "
         "indirect), %lu errors, waited for the ring %lu times\n", end.grants, end.pages,
         end.reads + end.writes + end.flushes, end.ring_requests, end.indirect_requests,
         end.errors, end.ring_full);
  printf("blkbench: done\n");
  return ok ? 0 : 1;
}
