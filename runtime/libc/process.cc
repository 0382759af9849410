// The process a ported program expects, as one unikernel can give it: the environment,
// signals raised inside the guest, CPU time, the system's names and limits. Making other
// processes (fork, exec*, popen, wait) fails with ENOSYS: a unikernel runs one program.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern "C" {
#include <sys/resource.h>   // which declares getrusage without extern "C"
}

#include <string>

#include "runtime/arch/x86/idt.h"
#include "runtime/boot.h"
#include "runtime/exit.h"
#include "runtime/libc/posix.h"
#include "runtime/mm/memory.h"
#include "runtime/xen/console.h"
#include "runtime/xen/xenstore.h"
#include "skiff/sched.h"
#include "skiff/skiff.h"

extern "C" char** environ;
extern "C" const char skiff_app_name[];
// The environment an app may give at link time (in the file with main):
//   extern "C" const char* const skiff_environ[] = {"LANG=C.UTF-8", nullptr};
extern "C" const char* const skiff_environ[] __attribute__((weak));

namespace skiff::posix {
namespace {

uint64_t cpu_time_at_main;
constexpr size_t kHostNameMax = 64;   // as Linux's HOST_NAME_MAX

// One handler table for the whole guest (newlib's signal() keeps one per task).
struct sigaction actions[NSIG];
sigset_t blocked;
sigset_t pending;

// What SIG_DFL does with |sig|, as on Linux: ignore, or end the program.
bool IgnoredByDefault(int sig) {
  return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

[[noreturn]] void DieOf(int sig) {
  if (sig == SIGABRT) x86::Crash("abort() called");
  fflush(nullptr);
  xen::ConsolePrint("skiff: killed by signal %d (%s)\n", sig, strsignal(sig));
  ExitGuest(128 + sig);
}

bool Valid(int sig) { return sig > 0 && sig < NSIG; }

char hostname[kHostNameMax + 1];

// The domain's name from xenstore, else the app's.
const char* Hostname() {
  if (hostname[0] != '\0') return hostname;
  std::string name = skiff_app_name;
  if (!IsDom0()) {
    if (Result<xen::XenstoreClient*> store = xen::Xenstore(); store) {
      if (Result<std::string> read = (*store)->Read("name"); read) name = *read;
    }
  }
  strncpy(hostname, name.c_str(), kHostNameMax);
  return hostname;
}

}  // namespace

void InitEnvironment(char** env, int env_count) {
  // Linux starts init with HOME=/ and TERM=linux; the app's and the command line's come after,
  // and win.
  setenv("HOME", "/", 1);
  setenv("TERM", "linux", 1);
  auto put = [](const char* word) {
    const char* equals = strchr(word, '=');
    if (equals == nullptr || equals == word) return false;
    std::string key(word, equals);
    return setenv(key.c_str(), equals + 1, 1) == 0;
  };
  if (&skiff_environ != nullptr) {
    for (const char* const* word = skiff_environ; *word != nullptr; word++) {
      if (!put(*word)) {
        xen::ConsolePrint("skiff: bad skiff_environ entry '%s': it is KEY=VALUE\n", *word);
        ExitGuest(2);
      }
    }
  }
  for (int i = 0; i < env_count; i++) {
    if (!put(env[i])) {
      xen::ConsolePrint("skiff: bad runtime option 'skiff.env=%s': it is skiff.env=KEY=VALUE\n",
                        env[i]);
      ExitGuest(2);
    }
  }
  cpu_time_at_main = GetVcpuTimes().running;
}

uint64_t CpuTimeNanoseconds() { return GetVcpuTimes().running - cpu_time_at_main; }

int DeliverSignal(int sig) {
  if (!Valid(sig)) {
    errno = EINVAL;
    return -1;
  }
  if (sigismember(&blocked, sig) && sig != SIGKILL && sig != SIGSTOP) {
    sigaddset(&pending, sig);
    return 0;
  }
  struct sigaction& action = actions[sig];
  if (action.sa_handler == SIG_IGN && sig != SIGKILL) return 0;
  if (action.sa_handler == SIG_DFL || sig == SIGKILL) {
    if (IgnoredByDefault(sig)) return 0;
    DieOf(sig);
  }
  void (*handler)(int) = action.sa_handler;
  if (action.sa_flags & SA_RESETHAND) action.sa_handler = SIG_DFL;
  // The signal and sa_mask are blocked while the handler runs.
  sigset_t saved = blocked;
  if (!(action.sa_flags & SA_NODEFER)) sigaddset(&blocked, sig);
  for (int s = 1; s < NSIG; s++) {
    if (sigismember(&action.sa_mask, s)) sigaddset(&blocked, s);
  }
  handler(sig);
  blocked = saved;
  return 0;
}

}  // namespace skiff::posix

using skiff::posix::DeliverSignal;

extern "C" {

int getpid() { return 1; }
int getppid() { return 0; }
uid_t getuid() { return 0; }
uid_t geteuid() { return 0; }
gid_t getgid() { return 0; }
gid_t getegid() { return 0; }

int kill(int pid, int sig) {
  if (pid != getpid() && pid != 0 && pid != -1) {
    errno = ESRCH;
    return -1;
  }
  return sig == 0 ? 0 : DeliverSignal(sig);
}

int raise(int sig) { return DeliverSignal(sig); }

// As Linux: SIGABRT is raised; if a handler returns, the default action ends the program.
void abort() {
  sigdelset(&skiff::posix::blocked, SIGABRT);
  DeliverSignal(SIGABRT);
  skiff::x86::Crash("abort() called");
}

int sigaction(int sig, const struct sigaction* action, struct sigaction* old) {
  if (!skiff::posix::Valid(sig) || (action != nullptr && (sig == SIGKILL || sig == SIGSTOP))) {
    errno = EINVAL;
    return -1;
  }
  if (old != nullptr) *old = skiff::posix::actions[sig];
  if (action != nullptr) skiff::posix::actions[sig] = *action;
  return 0;
}

_sig_func_ptr signal(int sig, _sig_func_ptr handler) {
  struct sigaction action = {}, old;
  action.sa_handler = handler;
  action.sa_flags = SA_RESTART;
  if (sigaction(sig, &action, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}

int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  sigset_t& blocked = skiff::posix::blocked;
  if (old != nullptr) *old = blocked;
  if (set == nullptr) return 0;
  switch (how) {
    case SIG_BLOCK: blocked |= *set; break;
    case SIG_UNBLOCK: blocked &= ~*set; break;
    case SIG_SETMASK: blocked = *set; break;
    default: errno = EINVAL; return -1;
  }
  // What was raised while blocked and is now unblocked is delivered now.
  sigset_t ready = skiff::posix::pending & ~blocked;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sigismember(&ready, sig)) {
      sigdelset(&skiff::posix::pending, sig);
      DeliverSignal(sig);
    }
  }
  return 0;
}

int sigpending(sigset_t* set) {
  *set = skiff::posix::pending;
  return 0;
}

clock_t times(struct tms* t) {
  // CLK_TCK is 1000 for newlib on x86-64. The guest's CPU time is its vCPU's running time.
  clock_t cpu = static_cast<clock_t>(skiff::posix::CpuTimeNanoseconds() / 1000000);
  if (t != nullptr) *t = {cpu, 0, 0, 0};
  return static_cast<clock_t>(skiff::Now() / 1000000);
}

int getrusage(int who, struct rusage* usage) {
  if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN) {
    errno = EINVAL;
    return -1;
  }
  *usage = {};
  if (who == RUSAGE_SELF) {
    uint64_t ns = skiff::posix::CpuTimeNanoseconds();
    usage->ru_utime.tv_sec = static_cast<time_t>(ns / 1000000000);
    usage->ru_utime.tv_usec = static_cast<suseconds_t>(ns % 1000000000 / 1000);
  }
  return 0;
}

long sysconf(int name) {
  switch (name) {
    case _SC_PAGESIZE: return 4096;
    case _SC_NPROCESSORS_CONF:
    case _SC_NPROCESSORS_ONLN: return 1;
    case _SC_CLK_TCK: return CLK_TCK;
    case _SC_OPEN_MAX: return skiff::posix::FdTable::kMaxFds;
    case _SC_PHYS_PAGES: return static_cast<long>(skiff::TotalMemory() / 4096);
    case _SC_AVPHYS_PAGES: return static_cast<long>(skiff::FreeMemory() / 4096);
    case _SC_ARG_MAX: return 4096;
    case _SC_CHILD_MAX: return 1;
    case _SC_HOST_NAME_MAX: return skiff::posix::kHostNameMax;
    case _SC_LINE_MAX: return 2048;
    case _SC_NGROUPS_MAX: return 0;
    case _SC_STREAM_MAX: return FOPEN_MAX;
    case _SC_TZNAME_MAX: return 6;
    default: errno = EINVAL; return -1;
  }
}

// SIGALRM comes from a timer in the event loop: the handler runs there, as Ctrl-C's does.
unsigned alarm(unsigned seconds) {
  static skiff::Timer* timer = new skiff::Timer([] { DeliverSignal(SIGALRM); });
  uint64_t now = skiff::Now();
  unsigned left = 0;
  if (timer->Cancel()) {
    uint64_t remaining = timer->deadline() > now ? timer->deadline() - now : 0;
    left = static_cast<unsigned>((remaining + 999999999) / 1000000000);
    if (left == 0) left = 1;
  }
  if (seconds > 0) timer->ArmAt(now + uint64_t{seconds} * 1000000000);
  return left;
}

int getpagesize() { return 4096; }

int gethostname(char* name, size_t len) {
  const char* host = skiff::posix::Hostname();
  size_t length = strlen(host);
  if (length + 1 > len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(name, host, length + 1);
  return 0;
}

int sethostname(const char* name, size_t len) {
  if (len > skiff::posix::kHostNameMax) {
    errno = EINVAL;
    return -1;
  }
  memcpy(skiff::posix::hostname, name, len);
  skiff::posix::hostname[len] = '\0';
  return 0;
}

int uname(struct utsname* u) {
  *u = {};
  strcpy(u->sysname, "Skiff");
  strncpy(u->nodename, skiff::posix::Hostname(), sizeof(u->nodename) - 1);
  strcpy(u->release, "0.1");
  strcpy(u->version, "Xen PVH");
  strcpy(u->machine, "x86_64");
  return 0;
}

// Other processes: none.
int fork() {
  errno = ENOSYS;
  return -1;
}
int vfork() { return fork(); }
int execve(const char*, char* const[], char* const[]) {
  errno = ENOSYS;
  return -1;
}
int execv(const char* path, char* const argv[]) { return execve(path, argv, environ); }
int execvp(const char* path, char* const argv[]) { return execve(path, argv, environ); }
int wait(int*) {
  errno = ECHILD;
  return -1;
}
pid_t waitpid(pid_t, int*, int) {
  errno = ECHILD;
  return -1;
}
FILE* popen(const char*, const char*) {
  errno = ENOSYS;
  return nullptr;
}
int pclose(FILE*) {
  errno = ECHILD;
  return -1;
}

}  // extern "C"
