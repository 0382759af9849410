// TASKS tasks (default 2) Yield() round robin, YIELDS times each, on the host:
//   switch_bench YIELDS [TASKS]
// Run under `valgrind --tool=callgrind` for two values of YIELDS; the difference in
// instructions over the difference in switches is the cost of one switch, including the event
// loop's turn once a round and this program's own loop (scripts/bench switch).
#include <stdio.h>
#include <stdlib.h>

#include <vector>

#include "runtime/sched/scheduler.h"

namespace {

// Time stands still and nothing ever idles: the tasks are always ready.
class BenchPlatform final : public skiff::sched::Platform {
 public:
  uint64_t Now() override { return 0; }
  void PollEvents() override {}
  void Idle(uint64_t) override { Fatal("the benchmark went idle"); }
  skiff::Result<skiff::sched::Stack> AllocateStack(size_t size, const char*, bool) override {
    return skiff::sched::Stack{static_cast<char*>(aligned_alloc(16, size)), size, nullptr, 0};
  }
  void FreeStack(const skiff::sched::Stack& stack) override { free(stack.base); }
  void Fatal(const char* message) override {
    fprintf(stderr, "switch_bench: %s\n", message);
    abort();
  }
};

}  // namespace

int main(int argc, char** argv) {
  long yields = argc > 1 ? atol(argv[1]) : 0;
  int count = argc > 2 ? atoi(argv[2]) : 2;
  if (yields < 0 || count < 1 || count > 1000) {
    fprintf(stderr, "usage: switch_bench YIELDS [TASKS]\n");
    return 2;
  }
  BenchPlatform platform;
  skiff::sched::Scheduler scheduler(&platform, {});
  skiff::sched::SetCurrent(&scheduler);
  auto body = [yields] {
    for (long i = 0; i < yields; i++) skiff::Yield();
  };
  std::vector<skiff::Task*> tasks;
  for (int i = 0; i < count; i++) {
    auto task = skiff::Spawn(body, {.name = "yield", .stack_size = 16 * 1024});
    if (!task) return 1;
    tasks.push_back(*task);
  }
  for (skiff::Task* task : tasks) skiff::Join(task);
  // Each Yield() switches once, and so does each turn of the event loop; spawning, joining
  // and ending add the same few for any YIELDS.
  printf("switches: %lu\n", yields * count + scheduler.loop_turns());
  skiff::sched::SetCurrent(nullptr);
  return 0;
}
