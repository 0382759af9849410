// poll(), which newlib does not have for this target (runtime/libc/poll.cc). The values are
// Linux's.
#ifndef SKIFF_POLL_H_
#define SKIFF_POLL_H_

#ifdef __cplusplus
extern "C" {
#endif

#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100

typedef unsigned long nfds_t;

struct pollfd {
  int fd;
  short events;
  short revents;
};

int poll(struct pollfd* fds, nfds_t count, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif  // SKIFF_POLL_H_
