// apps/microbench's measurements with Linux's primitives, for the Linux peer: the same
// figures, names, sample counts and line format, so that scripts/bench can set them side by
// side. Run as the peer's /init program: microbench_linux [SCALE]
//
// Built statically by scripts/bench with the host's g++ (g++ -O2 -static -pthread -I REPO)
// into build/peer/microbench_linux/, and packed into the peer's initramfs by
// scripts/lib/sandbox/peer.py.
//
// The equivalents (apps/microbench's figure -> what this one times):
//   clock read               clock_gettime(CLOCK_MONOTONIC), the clock every sample uses
//   task switch              two threads on one CPU, sched_yield(): A's yield to B running
//   yield round trip         sched_yield() with another runnable thread on the same CPU
//   event channel round trip two threads ping-ponging through a pair of eventfds
//   timer deadline to task   clock_nanosleep(TIMER_ABSTIME) 1 ms ahead: how late it returns
//   null hypercall           "null system call": syscall(SYS_getppid), which the C library
//                            cannot answer from a cache
//   malloc+free              glibc's malloc and free, the same sizes
// xenstore read and grant offer+end have no Linux equivalent in a process and are left out.
// Every thread is pinned to one CPU (the peer has one vCPU anyway), as Skiff's tasks share
// one vCPU.
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "apps/microbench/report.h"

namespace {

using microbench::Report;
using microbench::Samples;

uint64_t Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// From a sched_yield() in one thread to the next thread running: one switch.
void TaskSwitch() {
  auto samples = Samples(10000);
  std::atomic<uint64_t> yielded_at{0};
  std::atomic<bool> done{false};
  std::thread a([&] {
    while (!done.load(std::memory_order_relaxed)) {
      yielded_at.store(Now(), std::memory_order_relaxed);
      sched_yield();
    }
  });
  std::thread b([&] {
    sched_yield();   // let a go first
    while (samples.size() < samples.capacity()) {
      uint64_t now = Now();
      uint64_t then = yielded_at.exchange(0, std::memory_order_relaxed);
      if (then != 0) samples.push_back(now - then);
      sched_yield();
    }
    done = true;
  });
  a.join();
  b.join();
  Report("task switch", samples);
}

// A sched_yield() that returns after another thread has had its turn.
void YieldRoundTrip() {
  auto samples = Samples(10000);
  std::atomic<bool> done{false};
  std::thread other([&] {
    while (!done.load(std::memory_order_relaxed)) sched_yield();
  });
  sched_yield();   // let it start
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = Now();
    sched_yield();
    samples.push_back(Now() - start);
  }
  done = true;
  other.join();
  Report("yield round trip", samples);
}

// This thread signals one eventfd; another thread blocked on it answers on a second one;
// this thread wakes on the answer.
void EventRoundTrip() {
  auto samples = Samples(2000);
  int ping = eventfd(0, EFD_CLOEXEC), pong = eventfd(0, EFD_CLOEXEC);
  if (ping < 0 || pong < 0) {
    perror("event channel round trip: eventfd");
    return;
  }
  size_t rounds = samples.capacity();
  uint64_t one = 1, got;
  std::thread echo([&] {
    uint64_t value, answer = 1;
    for (size_t i = 0; i < rounds; i++) {
      if (read(ping, &value, sizeof value) != sizeof value ||
          write(pong, &answer, sizeof answer) != sizeof answer) {
        perror("event channel round trip: echo");
        exit(1);
      }
    }
  });
  for (size_t i = 0; i < rounds; i++) {
    uint64_t start = Now();
    if (write(ping, &one, sizeof one) != sizeof one || read(pong, &got, sizeof got) != sizeof got) {
      perror("event channel round trip");
      exit(1);
    }
    samples.push_back(Now() - start);
  }
  echo.join();
  close(ping);
  close(pong);
  Report("event channel round trip", samples);
}

// How late a sleeping thread runs after its deadline.
void TimerDelay() {
  auto samples = Samples(200);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t deadline = Now() + 1000000;
    timespec ts = {time_t(deadline / 1000000000u), long(deadline % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
    }
    samples.push_back(Now() - deadline);
  }
  Report("timer deadline to task", samples);
}

void NullSystemCall() {
  auto samples = Samples(2000);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = Now();
    syscall(SYS_getppid);
    samples.push_back(Now() - start);
  }
  Report("null system call", samples);
}

void MallocFree() {
  auto samples = Samples(10000);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = Now();
    void* volatile p = malloc(64 + i % 512);
    free(p);
    samples.push_back(Now() - start);
  }
  Report("malloc+free", samples);
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc > 1) microbench::scale = atoi(argv[1]);
  if (microbench::scale < 1 || microbench::scale > 100) {
    printf("microbench_linux: SCALE must be 1 to 100, not '%s'\n", argv[1]);
    return 2;
  }
  // One CPU for every thread (they inherit it): the first this process may use.
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0) {
    int first = 0;
    while (first < CPU_SETSIZE && !CPU_ISSET(first, &cpus)) first++;
    CPU_ZERO(&cpus);
    CPU_SET(first, &cpus);
    if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) perror("microbench_linux: affinity");
  }
  microbench::ClockRead(Now);
  TaskSwitch();
  YieldRoundTrip();
  EventRoundTrip();
  TimerDelay();
  NullSystemCall();
  MallocFree();
  microbench::FileCalls(Now);
  return 0;
}
