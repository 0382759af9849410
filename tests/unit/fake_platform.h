// A fake machine for the scheduler's host tests: a clock that moves only when the event loop
// idles, heap-allocated stacks, and a fake shared_info whose event channels the tests raise.
#ifndef SKIFF_TESTS_UNIT_FAKE_PLATFORM_H_
#define SKIFF_TESTS_UNIT_FAKE_PLATFORM_H_

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <functional>
#include <utility>
#include <vector>

#include "runtime/sched/scheduler.h"
#include "runtime/xen/evtchn_2l.h"

namespace skiff {

class FakePlatform final : public sched::Platform {
 public:
  FakePlatform() { ports.Attach(&shared_, &shared_.vcpu_info[0]); }

  uint64_t Now() override { return now; }

  void PollEvents() override {
    for (auto& [owner, poll] : pollers_) poll();
    if (ports.Pending()) ports.Dispatch();
  }

  // Jumps the clock to |deadline|, as if the vCPU had halted until then.
  void Idle(uint64_t deadline) override {
    idles++;
    if (ports.Pending()) return;
    if (deadline == kNever) {
      const char* message = "deadlock: every task is blocked, with no timer armed or event";
      ADD_FAILURE() << message;
      fprintf(stderr, "%s\n", message);   // for EXPECT_DEATH, which reads stderr
      abort();
    }
    if (deadline > now) now = deadline;
  }

  Result<sched::Stack> AllocateStack(size_t size, const char* name, bool) override {
    void* base = aligned_alloc(4096, size);
    if (base == nullptr) return MakeError(ENOMEM, "no memory for the stack of '%s'", name);
    stacks_in_use++;
    sched::Stack stack;
    stack.base = static_cast<char*>(base);
    stack.size = size;
    return stack;
  }

  void FreeStack(const sched::Stack& stack) override {
    stacks_in_use--;
    free(stack.base);
  }

  [[noreturn]] void Fatal(const char* message) override {
    fprintf(stderr, "fatal: %s\n", message);
    abort();
  }

  // What Xen does to send an event on |port| (evtchn_2l_set_pending): sets its pending bit
  // and, if it was clear and the port is unmasked, the word's selector bit and the upcall flag.
  void Raise(evtchn_port_t port) {
    constexpr unsigned kBits = xen::EventPorts::kWordBits;
    xen_ulong_t bit = xen_ulong_t{1} << (port % kBits), word = xen_ulong_t{1} << (port / kBits);
    if (__atomic_fetch_or(&shared_.evtchn_pending[port / kBits], bit, __ATOMIC_ACQ_REL) & bit) {
      return;
    }
    if (__atomic_load_n(&shared_.evtchn_mask[port / kBits], __ATOMIC_ACQUIRE) & bit) return;
    vcpu_info& vcpu = shared_.vcpu_info[0];
    if (!(__atomic_fetch_or(&vcpu.evtchn_pending_sel, word, __ATOMIC_ACQ_REL) & word)) {
      __atomic_store_n(&vcpu.evtchn_upcall_pending, 1, __ATOMIC_RELEASE);
    }
  }

  bool IsPending(evtchn_port_t port) const {
    constexpr unsigned kBits = xen::EventPorts::kWordBits;
    return (shared_.evtchn_pending[port / kBits] >> (port % kBits)) & 1;
  }

  shared_info& shared() { return shared_; }
  vcpu_info& vcpu() { return shared_.vcpu_info[0]; }

  uint64_t now = 0;
  uint64_t idles = 0;
  int stacks_in_use = 0;
  xen::EventPorts ports;
  // A fake device's turn in each poll, before the events are dispatched: a fake xenstored
  // and fake backends, any number of them at once.
  void AddPoller(const void* owner, std::function<void()> poll) {
    pollers_.emplace_back(owner, std::move(poll));
  }
  void RemovePoller(const void* owner) {
    std::erase_if(pollers_, [owner](const auto& p) { return p.first == owner; });
  }

 private:
  shared_info shared_ = {};
  std::vector<std::pair<const void*, std::function<void()>>> pollers_;
};

// Runs the test body as the task "main" of a scheduler on a FakePlatform.
class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { sched::SetCurrent(&sched_); }
  void TearDown() override { sched::SetCurrent(nullptr); }

  FakePlatform platform_;
  sched::Scheduler sched_{&platform_, sched::Stack{}};
};

}  // namespace skiff

#endif  // SKIFF_TESTS_UNIT_FAKE_PLATFORM_H_
