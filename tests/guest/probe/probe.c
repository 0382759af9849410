/*
 * probe.c: the sandbox's test guest. It reports where it runs, acts on the
 * words of its command line, and ends by the project's exit contract:
 *   1. print "skiff: exit status N";
 *   2. domU: write N to xenstore data/exit-status, then SCHEDOP_shutdown
 *      (SHUTDOWN_poweroff);
 *   3. dom0 or no Xen: outl N (at most 127) to isa-debug-exit at 0xf4, so
 *      QEMU exits with 2N+1; then SHUTDOWN_poweroff or halt as a fallback.
 * Words, in order: exit=N (0..255), crash, hang, backends (domU).
 */
#include "probe.h"

#include <xen/arch-x86/hvm/start_info.h>
#include <xen/io/xenbus.h>
#include <xen/sched.h>

enum {
  kDebugExitPort = 0xf4,
  kMaxDebugExitStatus = 127,  /* QEMU's status 2N+1 must fit in a byte */
  kCmdlineMax = 1024,
  kBackendWaitMs = 20000,     /* for all backends together */
  kBackendPollMs = 100,
};

static enum { kNoXen, kDom0, kDomU } domain;
static bool have_xenstore;
static unsigned exit_status;
static char cmdline[kCmdlineMax];

static noreturn void Exit(unsigned status) {
  Printf("skiff: exit status %u\n", status);
  if (domain == kDomU) {
    char value[21];
    FormatUnsigned(value, status);
    const char *error = have_xenstore ? XsWrite("data/exit-status", value) : "no xenstore";
    if (error) Printf("probe: cannot write data/exit-status: %s\n", error);
    ConsoleDrain();
    XenShutdown(SHUTDOWN_poweroff);
    HaltForever();
  }
  if (status > kMaxDebugExitStatus) {
    Printf("probe: exit status %u clamped to %u for isa-debug-exit\n", status, kMaxDebugExitStatus);
    status = kMaxDebugExitStatus;
  }
  ConsoleDrain();
  OutL(kDebugExitPort, status);
  if (domain == kDom0) XenShutdown(SHUTDOWN_poweroff);
  HaltForever();
}

/* SHUTDOWN_crash under Xen; halts without it. */
static noreturn void Crash(void) {
  ConsoleDrain();
  if (domain != kNoXen) XenShutdown(SHUTDOWN_crash);
  HaltForever();
}

static noreturn void Hang(void) {
  Printf("probe: hanging on request\n");
  ConsoleDrain();
  if (domain == kNoXen) HaltForever();
  for (;;) XenBlock();  /* not HaltForever(): under Xen that powers the domain off */
}

static const char *StateName(uint64_t state) {
  static const char *const kNames[] = {
      [XenbusStateUnknown] = "Unknown",           [XenbusStateInitialising] = "Initialising",
      [XenbusStateInitWait] = "InitWait",         [XenbusStateInitialised] = "Initialised",
      [XenbusStateConnected] = "Connected",       [XenbusStateClosing] = "Closing",
      [XenbusStateClosed] = "Closed",             [XenbusStateReconfiguring] = "Reconfiguring",
      [XenbusStateReconfigured] = "Reconfigured",
  };
  return state < sizeof(kNames) / sizeof(kNames[0]) ? kNames[state] : "?";
}

/* Polls device/|type|/|id|'s backend state until it is InitWait or
 * |deadline| passes. Prints one line either way; true on InitWait. */
static bool CheckDevice(const char *type, const char *id, uint64_t deadline) {
  char path[128], backend[128], state[16] = "unreadable";
  const char *error = "path too long";
  if (!Concat(path, sizeof(path), "device/", type, "/", id, "/backend", NULL) ||
      (error = XsRead(path, backend, sizeof(backend))) != NULL ||
      !Concat(path, sizeof(path), backend, "/state", NULL)) {
    Printf("probe: %s/%s has no usable backend path: %s\n", type, id, error);
    return false;
  }
  for (uint64_t value;;) {
    if (XsRead(path, state, sizeof(state)) == NULL && ParseUnsigned(state, 255, &value) &&
        value == XenbusStateInitWait) {
      Printf("probe: %s/%s backend %s state %s (%s)\n", type, id, backend, state, StateName(value));
      return true;
    }
    if (NowMs() >= deadline) break;
    for (uint64_t until = NowMs() + kBackendPollMs; NowMs() < until;) Relax();
  }
  Printf("probe: %s/%s backend state %s, never reached InitWait\n", type, id, state);
  return false;
}

/* Checks every device under device/|type|. Returns how many there are;
 * clears |*ok| if one fails or the list cannot be read. */
static unsigned CheckDevices(const char *type, uint64_t deadline, bool *ok) {
  char path[32], ids[512];
  size_t len = 0;
  Concat(path, sizeof(path), "device/", type, NULL);
  const char *error = XsDirectory(path, ids, sizeof(ids), &len);
  if (error) {
    if (strcmp(error, "ENOENT") == 0) return 0;
    Printf("probe: cannot list %s: %s\n", path, error);
    *ok = false;
    return 0;
  }
  unsigned count = 0;
  for (const char *id = ids; id < ids + len; id += strlen(id) + 1, count++)
    *ok = CheckDevice(type, id, deadline) && *ok;
  return count;
}

static void CheckBackends(void) {
  if (domain != kDomU || !have_xenstore) {
    Printf("probe: backends needs a Xen domU with xenstore\n");
    exit_status = 1;
    return;
  }
  char name[64] = "?", domid[16] = "?";
  const char *error = XsRead("name", name, sizeof(name));
  if (!error) error = XsRead("domid", domid, sizeof(domid));
  if (error) Printf("probe: cannot read name and domid: %s\n", error);
  Printf("probe: name %s domid %s\n", name, domid);
  uint64_t deadline = NowMs() + kBackendWaitMs;
  bool ok = true;
  unsigned devices = CheckDevices("vif", deadline, &ok);
  devices += CheckDevices("vbd", deadline, &ok);
  if (devices == 0 && ok) Printf("probe: no devices\n");
  if (!ok) exit_status = 1;
}

static void RunWord(const char *word) {
  uint64_t value;
  if (strncmp(word, "exit=", 5) == 0 && ParseUnsigned(word + 5, 255, &value)) {
    exit_status = (unsigned)value;
  } else if (strcmp(word, "crash") == 0) {
    Printf("probe: crashing on request\n");
    Crash();
  } else if (strcmp(word, "hang") == 0) {
    Hang();
  } else if (strcmp(word, "backends") == 0) {
    CheckBackends();
  } else {
    Printf("probe: ignoring unknown word '%s'\n", word);
  }
}

/* Copies the command line, bounded, from |paddr| (0: none). */
static void ReadCmdline(uint64_t paddr) {
  const char *source = (const char *)(uintptr_t)paddr;
  if (paddr == 0 || paddr >= ((uint64_t)kMappedPfns << kPageShift) - kCmdlineMax) return;
  for (size_t i = 0; i + 1 < kCmdlineMax && source[i]; i++) cmdline[i] = source[i];
}

/* Called by entry.S in long mode with the physical address of the start info. */
noreturn void ProbeMain(uint32_t start_info_paddr) {
  const struct hvm_start_info *info = (const struct hvm_start_info *)(uintptr_t)start_info_paddr;
  bool info_ok = info->magic == XEN_HVM_START_MAGIC_VALUE;
  uint32_t version = XenInit();
  if (version != 0) domain = info_ok && (info->flags & SIF_INITDOMAIN) ? kDom0 : kDomU;
  if (domain == kDom0) ConsoleUseConsoleIo();
  bool have_ring = domain == kDomU && ConsoleUseRing();
  have_xenstore = domain == kDomU && XsInit();
  if (info_ok) ReadCmdline(info->cmdline_paddr);

  Printf("probe: cmdline: %s\n", cmdline);
  if (!info_ok) Printf("probe: bad hvm_start_info magic, no command line\n");
  if (domain == kNoXen)
    Printf("probe: no Xen, output on port 0xe9 only\n");
  else
    Printf("probe: Xen %u.%u, %s%s\n", version >> 16, version & 0xffff,
           domain == kDom0 ? "dom0" : "domU",
           domain == kDomU && !have_ring ? " without a console ring" : "");

  for (char *word = cmdline; *word;) {
    char *end = word;
    while (*end && *end != ' ') end++;
    bool last = *end == '\0';
    *end = '\0';
    if (end != word) RunWord(word);
    word = last ? end : end + 1;
  }
  Exit(exit_status);
}
