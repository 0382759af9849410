#include "runtime/sched/scheduler.h"

namespace skiff::sched {

void TimerHeap::Arm(Timer* timer, uint64_t deadline) {
  if (timer->armed()) RemoveAt(timer->index_);
  timer->deadline_ = deadline;
  timer->sequence_ = sequence_++;
  heap_.push_back(timer);
  Place(heap_.size() - 1, timer);
  SiftUp(heap_.size() - 1);
}

bool TimerHeap::Cancel(Timer* timer) {
  if (!timer->armed()) return false;
  RemoveAt(timer->index_);
  return true;
}

int TimerHeap::FireExpired(uint64_t now) {
  int fired = 0;
  while (!heap_.empty() && heap_[0]->deadline_ <= now) {
    Timer* timer = heap_[0];
    RemoveAt(0);
    timer->callback_(timer->arg_);   // may re-arm or destroy |timer|
    fired++;
  }
  return fired;
}

void TimerHeap::SiftUp(size_t i) {
  Timer* timer = heap_[i];
  while (i > 0 && Before(timer, heap_[(i - 1) / 2])) {
    Place(i, heap_[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  Place(i, timer);
}

void TimerHeap::SiftDown(size_t i) {
  Timer* timer = heap_[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= heap_.size()) break;
    if (child + 1 < heap_.size() && Before(heap_[child + 1], heap_[child])) child++;
    if (!Before(heap_[child], timer)) break;
    Place(i, heap_[child]);
    i = child;
  }
  Place(i, timer);
}

void TimerHeap::RemoveAt(size_t i) {
  heap_[i]->index_ = Timer::kUnarmed;
  Timer* last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  Place(i, last);
  SiftUp(i);
  SiftDown(last->index_);
}

}  // namespace skiff::sched

namespace skiff {

void Timer::ArmAt(uint64_t deadline) { sched::Current()->timers().Arm(this, deadline); }

void Timer::ArmAfter(uint64_t ns) {
  uint64_t now = Now();
  ArmAt(ns >= kNever - now ? kNever : now + ns);
}

bool Timer::Cancel() { return armed() && sched::Current()->timers().Cancel(this); }

}  // namespace skiff
