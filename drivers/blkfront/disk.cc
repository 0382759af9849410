// The parts of skiff/block.h that every disk shares: waiting, and the blocking calls.
#include <errno.h>

#include "skiff/block.h"

namespace skiff {

BlockRequest::~BlockRequest() {
  if (state_ == State::kInFlight) (void)Wait();
}

Result<void> BlockRequest::Wait() {
  while (state_ == State::kInFlight) waiters_.Wait();
  return result_;
}

namespace {

Result<void> Run(Disk& disk, BlockOp op, uint64_t offset, std::span<const BlockBuffer> buffers) {
  BlockRequest request;
  TRY(disk.Start(request, op, offset, buffers));
  return request.Wait();
}

}  // namespace

Result<void> Disk::Read(uint64_t offset, void* data, size_t size) {
  BlockBuffer buffer{data, size};
  return Run(*this, BlockOp::kRead, offset, {&buffer, 1});
}

Result<void> Disk::Write(uint64_t offset, const void* data, size_t size) {
  BlockBuffer buffer{const_cast<void*>(data), size};
  return Run(*this, BlockOp::kWrite, offset, {&buffer, 1});
}

Result<void> Disk::Readv(uint64_t offset, std::span<const BlockBuffer> buffers) {
  return Run(*this, BlockOp::kRead, offset, buffers);
}

Result<void> Disk::Writev(uint64_t offset, std::span<const BlockBuffer> buffers) {
  return Run(*this, BlockOp::kWrite, offset, buffers);
}

Result<void> Disk::Flush() { return Run(*this, BlockOp::kFlush, 0, {}); }

Result<void> Disk::Discard(uint64_t offset, uint64_t length) {
  BlockRequest request;
  TRY(StartDiscard(request, offset, length));
  return request.Wait();
}

}  // namespace skiff
