#include "tests/unit/fake_backend.h"

namespace skiff {

FakeBackendBase::FakeBackendBase(FakePlatform* platform, EvtchnPort front_port)
    : platform_(platform), front_port_(front_port) {
  platform_->AddPoller(this, [this] { Poll(); });
}

FakeBackendBase::~FakeBackendBase() { platform_->RemovePoller(this); }

void FakeBackendBase::Kick() {
  kicks++;
  awake_ = true;
}

void FakeBackendBase::Close() {
  closed_ = true;
  awake_ = false;
  if (on_close) on_close();
}

void FakeBackendBase::Notify() {
  notifies++;
  platform_->Raise(front_port_.value);
}

void FakeBackendBase::Poll() {
  if (closed_ || stalled || !awake_) return;
  Serve();
}

}  // namespace skiff
