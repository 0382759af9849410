// pipe(): a 64 KiB buffer between two descriptors, for tasks and threads of the one program.
// As on Linux: a read waits for bytes and returns what there is, 0 once every write end is
// closed; a write waits for room (writes of at most PIPE_BUF bytes are never split), and with
// no read end left it raises SIGPIPE and fails with EPIPE; O_NONBLOCK makes waiting EAGAIN.
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <new>

#include "runtime/libc/posix.h"
#include "skiff/sched.h"

namespace skiff::posix {
namespace {

constexpr size_t kPipeSize = 64 * 1024;   // Linux's default

struct Pipe {
  char buffer[kPipeSize];
  size_t head = 0;   // where the next read starts
  size_t used = 0;
  int readers = 1, writers = 1;
  WaitQueue readable, writable;
};

class PipeEnd final : public File {
 public:
  PipeEnd(Pipe* pipe, int flags) : File(flags), pipe_(pipe) {}
  ~PipeEnd() override {
    if (readable()) {
      pipe_->readers--;
      pipe_->writable.WakeAll();   // writers see EPIPE
    } else {
      pipe_->writers--;
      pipe_->readable.WakeAll();   // readers see the end
    }
    NotifyPollers();
    if (pipe_->readers == 0 && pipe_->writers == 0) delete pipe_;
  }

  ssize_t Read(void* out, size_t len) override {
    if (len == 0) return 0;
    while (pipe_->used == 0) {
      if (pipe_->writers == 0) return 0;
      if (flags() & O_NONBLOCK) return -EAGAIN;
      pipe_->readable.Wait();
    }
    size_t n = len < pipe_->used ? len : pipe_->used;
    char* to = static_cast<char*>(out);
    for (size_t done = 0; done < n;) {
      size_t chunk = n - done < kPipeSize - pipe_->head ? n - done : kPipeSize - pipe_->head;
      memcpy(to + done, pipe_->buffer + pipe_->head, chunk);
      pipe_->head = (pipe_->head + chunk) % kPipeSize;
      done += chunk;
    }
    pipe_->used -= n;
    pipe_->writable.WakeAll();
    NotifyPollers();
    return static_cast<ssize_t>(n);
  }

  ssize_t Write(const void* data, size_t len) override {
    const char* from = static_cast<const char*>(data);
    size_t done = 0;
    while (done < len) {
      if (pipe_->readers == 0) {
        raise(SIGPIPE);
        return done > 0 ? static_cast<ssize_t>(done) : -EPIPE;
      }
      size_t room = kPipeSize - pipe_->used;
      // PIPE_BUF bytes or fewer go in whole or wait.
      if (room == 0 || (len <= PIPE_BUF && room < len)) {
        if (flags() & O_NONBLOCK) return done > 0 ? static_cast<ssize_t>(done) : -EAGAIN;
        pipe_->writable.Wait();
        continue;
      }
      size_t n = len - done < room ? len - done : room;
      for (size_t put = 0; put < n;) {
        size_t tail = (pipe_->head + pipe_->used) % kPipeSize;
        size_t chunk = n - put < kPipeSize - tail ? n - put : kPipeSize - tail;
        memcpy(pipe_->buffer + tail, from + done + put, chunk);
        pipe_->used += chunk;
        put += chunk;
      }
      done += n;
      pipe_->readable.WakeAll();
      NotifyPollers();
    }
    return static_cast<ssize_t>(done);
  }

  short Poll() override {
    if (readable()) {
      return static_cast<short>((pipe_->used > 0 ? kPollIn : 0) |
                                (pipe_->writers == 0 ? kPollHup : 0));
    }
    if (pipe_->readers == 0) return kPollErr;
    return kPipeSize - pipe_->used >= PIPE_BUF ? kPollOut : 0;
  }

  int Stat(struct stat* st) override {
    *st = {};
    st->st_mode = S_IFIFO | 0600;
    st->st_blksize = PIPE_BUF;
    st->st_size = static_cast<off_t>(pipe_->used);
    return 0;
  }

 private:
  Pipe* pipe_;
};

}  // namespace
}  // namespace skiff::posix

extern "C" int pipe(int fds[2]) {
  using namespace skiff::posix;
  auto* shared = new (std::nothrow) Pipe;
  File* read_end = shared ? new (std::nothrow) PipeEnd(shared, O_RDONLY) : nullptr;
  File* write_end = read_end ? new (std::nothrow) PipeEnd(shared, O_WRONLY) : nullptr;
  if (write_end == nullptr) {
    if (read_end != nullptr) {
      shared->writers = 0;   // so that the read end frees the pipe
      read_end->Unref();
    } else {
      delete shared;
    }
    errno = ENOMEM;
    return -1;
  }
  int in = Descriptors().Install(read_end);
  if (in < 0) {
    write_end->Unref();   // the read end was dropped by Install: this frees the pipe
    errno = -in;
    return -1;
  }
  int out = Descriptors().Install(write_end);
  if (out < 0) {
    Descriptors().Close(in);
    errno = -out;
    return -1;
  }
  fds[0] = in;
  fds[1] = out;
  return 0;
}
