// The runtime's costs, measured from inside the guest: microbench [SCALE] [--after KEY]
// (It uses the runtime's own xenstore client header, runtime/xen/store.h.)
// --after KEY: first wait, halted, until xenstore KEY exists; scripts/bench has dom0 write it
// once the Linux peer of the same run has finished, so that the two never measure at once.
// Prints one line per figure: "NAME: median N ns, p99 N ns (N samples)". SCALE (default 1)
// multiplies the sample counts. Times come from skiff::Now() (pvclock), so each sample also
// holds one clock read; "clock read" shows what that is.
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <string_view>
#include <memory>
#include <vector>

#include "apps/microbench/report.h"
#include "runtime/xen/xenstore.h"
#include "skiff/evtchn.h"
#include "skiff/grant.h"
#include "skiff/sched.h"
#include "skiff/skiff.h"

namespace {

using microbench::Report;
using microbench::Samples;

// From a Yield() in one task to the next task running: one switch.
void TaskSwitch() {
  auto samples = Samples(10000);
  uint64_t yielded_at = 0;
  bool done = false;
  auto a = skiff::Spawn([&] {
    while (!done) {
      yielded_at = skiff::Now();
      skiff::Yield();
    }
  }, {.name = "switch-a"});
  auto b = skiff::Spawn([&] {
    skiff::Yield();   // let a go first
    while (samples.size() < samples.capacity()) {
      uint64_t now = skiff::Now();
      if (yielded_at != 0) samples.push_back(now - yielded_at);
      yielded_at = 0;
      skiff::Yield();
    }
    done = true;
  }, {.name = "switch-b"});
  skiff::Join(*a);
  skiff::Join(*b);
  Report("task switch", samples);
}

// A Yield() that returns after another task (and the event loop) has had its turn.
void YieldRoundTrip() {
  auto samples = Samples(10000);
  bool done = false;
  auto other = skiff::Spawn([&] {
    while (!done) skiff::Yield();
  }, {.name = "yield-other"});
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = skiff::Now();
    skiff::Yield();
    samples.push_back(skiff::Now() - start);
  }
  done = true;
  skiff::Join(*other);
  Report("yield round trip", samples);
}

// A task sends on one end of an interdomain pair of this domain's own ports; another task
// waits on the other end and answers; the first wakes on the answer.
void EventRoundTrip() {
  auto samples = Samples(2000);
  auto a = skiff::EventChannel::AllocUnbound(skiff::kDomidSelf);
  if (!a) {
    printf("event round trip: %s\n", a.error().message.c_str());
    return;
  }
  auto b = skiff::EventChannel::BindInterdomain(skiff::kDomidSelf, a->port());
  if (!b) {
    printf("event round trip: %s\n", b.error().message.c_str());
    return;
  }
  size_t rounds = samples.capacity();
  auto echo = skiff::Spawn([&] {
    for (size_t i = 0; i < rounds; i++) {
      b->Wait();
      (void)b->Send();
    }
  }, {.name = "echo"});
  for (size_t i = 0; i < rounds; i++) {
    uint64_t start = skiff::Now();
    (void)a->Send();
    a->Wait();
    samples.push_back(skiff::Now() - start);
  }
  skiff::Join(*echo);
  Report("event channel round trip", samples);
}

// How late a sleeping task runs after its deadline.
void TimerDelay() {
  auto samples = Samples(200);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t deadline = skiff::Now() + 1000000;
    skiff::SleepUntil(deadline);
    samples.push_back(skiff::Now() - deadline);
  }
  Report("timer deadline to task", samples);
}

void NullHypercall() {
  auto samples = Samples(2000);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = skiff::Now();
    skiff::NullHypercall();
    samples.push_back(skiff::Now() - start);
  }
  Report("null hypercall", samples);
}

// A read of the domain's own name from xenstore, request to reply (domU only).
void XenstoreRead() {
  auto store = skiff::xen::Xenstore();
  if (!store) {
    printf("xenstore read: skipped: %s\n", store.error().message.c_str());
    return;
  }
  auto samples = Samples(500);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = skiff::Now();
    auto name = (*store)->Read("name");
    samples.push_back(skiff::Now() - start);
    if (!name) {
      printf("xenstore read: %s\n", name.error().message.c_str());
      return;
    }
  }
  Report("xenstore read", samples);
}

// Granting a fresh page to dom0 and ending the grant.
void GrantOfferEnd() {
  auto samples = Samples(2000);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = skiff::Now();
    {
      auto page = skiff::GrantedPage::Offer(skiff::DomId{0});
      if (!page) {
        printf("grant offer+end: %s\n", page.error().message.c_str());
        return;
      }
    }
    samples.push_back(skiff::Now() - start);
  }
  Report("grant offer+end", samples);
}

void MallocFree() {
  auto samples = Samples(10000);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = skiff::Now();
    void* volatile p = malloc(64 + i % 512);
    free(p);
    samples.push_back(skiff::Now() - start);
  }
  Report("malloc+free", samples);
}

}  // namespace

// Waits until xenstore |key| exists.
bool WaitForKey(const char* key) {
  auto store = skiff::xen::Xenstore();
  if (!store) {
    printf("microbench: --after %s: %s\n", key, store.error().message.c_str());
    return false;
  }
  skiff::Event changed;
  auto watch = (*store)->Watch(key, [&](std::string_view) { changed.Signal(); });
  if (!watch) {
    printf("microbench: --after %s: %s\n", key, watch.error().message.c_str());
    return false;
  }
  while (!(*store)->Read(key).ok()) changed.Wait();
  (void)(*store)->Unwatch(*watch);
  return true;
}

int main(int argc, char** argv) {
  const char* after = nullptr;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--after" && i + 1 < argc) {
      after = argv[++i];
    } else {
      microbench::scale = atoi(argv[i]);
      if (microbench::scale < 1 || microbench::scale > 100) {
        printf("microbench: SCALE must be 1 to 100, not '%s'\n", argv[i]);
        return 2;
      }
    }
  }
  if (after != nullptr && !WaitForKey(after)) return 2;
  microbench::ClockRead(skiff::Now);
  TaskSwitch();
  YieldRoundTrip();
  EventRoundTrip();
  TimerDelay();
  NullHypercall();
  MallocFree();
  microbench::FileCalls(skiff::Now);
  XenstoreRead();
  GrantOfferEnd();
  return 0;
}
