// poll() and select() over the descriptor table. Files say what is ready (File::Poll); one
// wait queue holds every polling task, woken by any file whose readiness changes, and each
// looks again. Spurious wakeups are cheap next to a scan per event source.
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>

#include "runtime/libc/posix.h"
#include "skiff/sched.h"

namespace skiff::posix {
namespace {

WaitQueue pollers;

int Scan(struct pollfd* fds, nfds_t count) {
  int ready = 0;
  for (nfds_t i = 0; i < count; i++) {
    fds[i].revents = 0;
    if (fds[i].fd < 0) continue;
    File* file = Descriptors().Get(fds[i].fd);
    if (file == nullptr) {
      fds[i].revents = POLLNVAL;
    } else {
      short now = file->Poll();
      fds[i].revents = static_cast<short>(now & (fds[i].events | POLLERR | POLLHUP));
    }
    ready += fds[i].revents != 0;
  }
  return ready;
}

// Waits until a descriptor is ready or |timeout_ns| passes (kNever: no limit).
int Wait(struct pollfd* fds, nfds_t count, uint64_t timeout_ns) {
  uint64_t deadline = timeout_ns == kNever ? kNever : Now() + timeout_ns;
  while (true) {
    int ready = Scan(fds, count);
    if (ready > 0 || timeout_ns == 0) return ready;
    if (!pollers.WaitUntil(deadline)) return Scan(fds, count);
  }
}

}  // namespace

void NotifyPollers() { pollers.WakeAll(); }

}  // namespace skiff::posix

extern "C" {

int poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
  if (count > static_cast<nfds_t>(skiff::posix::FdTable::kMaxFds)) {
    errno = EINVAL;
    return -1;
  }
  uint64_t timeout = timeout_ms < 0 ? skiff::kNever : uint64_t(timeout_ms) * 1000000;
  return skiff::posix::Wait(fds, count, timeout);
}

int select(int n, fd_set* reads, fd_set* writes, fd_set* errors, struct timeval* timeout) {
  if (n < 0 || n > FD_SETSIZE ||
      (timeout != nullptr && (timeout->tv_sec < 0 || timeout->tv_usec < 0))) {
    errno = EINVAL;
    return -1;
  }
  struct pollfd fds[FD_SETSIZE];
  nfds_t count = 0;
  for (int fd = 0; fd < n; fd++) {
    short events = 0;
    if (reads != nullptr && FD_ISSET(fd, reads)) events |= POLLIN;
    if (writes != nullptr && FD_ISSET(fd, writes)) events |= POLLOUT;
    if (errors != nullptr && FD_ISSET(fd, errors)) events |= POLLPRI;
    if (events != 0) fds[count++] = {fd, events, 0};
  }
  uint64_t ns = timeout == nullptr
                    ? skiff::kNever
                    : uint64_t(timeout->tv_sec) * 1000000000 + uint64_t(timeout->tv_usec) * 1000;
  skiff::posix::Wait(fds, count, ns);
  int ready = 0;
  for (nfds_t i = 0; i < count; i++) {
    if (fds[i].revents & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
  }
  if (reads != nullptr) FD_ZERO(reads);
  if (writes != nullptr) FD_ZERO(writes);
  if (errors != nullptr) FD_ZERO(errors);
  for (nfds_t i = 0; i < count; i++) {
    short r = fds[i].revents;
    // As Linux: an end of file or an error makes a descriptor readable (and writable).
    if (reads != nullptr && (fds[i].events & POLLIN) && (r & (POLLIN | POLLHUP | POLLERR))) {
      FD_SET(fds[i].fd, reads);
      ready++;
    }
    if (writes != nullptr && (fds[i].events & POLLOUT) && (r & (POLLOUT | POLLERR))) {
      FD_SET(fds[i].fd, writes);
      ready++;
    }
  }
  return ready;
}

}  // extern "C"
