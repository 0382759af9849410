/*
 * probe.h: what the files of the probe test guest share.
 *
 * The probe is freestanding C11 on one vCPU with interrupts off: every wait
 * polls, and every wait is bounded. Pages are identity-mapped below 4 GiB.
 */
#ifndef SKIFF_TESTS_GUEST_PROBE_PROBE_H_
#define SKIFF_TESTS_GUEST_PROBE_PROBE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include <xen/xen.h>

typedef struct { uint32_t value; } EvtchnPort;

enum { kPageShift = 12, kMappedPfns = 1u << (32 - kPageShift) };  /* entry.S maps 4 GiB */

/* xen.c: the CPU and the hypervisor. */

/* Finds Xen's CPUID leaves and installs the hypercall page. Returns Xen's
 * version (major << 16 | minor), or 0 without Xen; the Xen* calls below
 * need Xen. */
uint32_t XenInit(void);
/* Calls hypercall |op| through the hypercall page. Returns Xen's result. */
long Hypercall(unsigned op, uint64_t a1, uint64_t a2, uint64_t a3);
/* Reads this domain's HVM parameter |index| [xen/hvm/params.h]. */
bool XenHvmParam(uint32_t index, uint64_t *value);
void XenNotify(EvtchnPort port);
/* SCHEDOP_shutdown with |reason| (SHUTDOWN_*). Returns only if Xen refuses. */
void XenShutdown(unsigned reason);
/* SCHEDOP_block: sleeps until an event is delivered. With no upcall set up,
 * that is until a spurious wakeup, so callers loop. */
void XenBlock(void);
/* One step of a polling loop: a short spin with pause, no hypercall.
 * TODO: yield to Xen instead, once it is safe: in the QEMU TCG sandbox a domU
 * that loops on hypercalls (SCHEDOP_yield, XENVER_version) triple-faults
 * within a minute, at the instruction after vmmcall. */
void Relax(void);
/* Milliseconds from the TSC at Xen's rate (CPUID leaf base+3), else at an
 * assumed 1 GHz. For deadlines only. */
uint64_t NowMs(void);
void OutB(uint16_t port, uint8_t value);
void OutL(uint16_t port, uint32_t value);
/* cli; hlt forever. Under Xen that powers the domain off [hvm_hlt]. */
noreturn void HaltForever(void);

/* console.c: output, a line at a time. Port 0xe9 always gets every line. */

/* Also send lines to Xen's console with HYPERVISOR_console_io (dom0 only). */
void ConsoleUseConsoleIo(void);
/* Also send lines to the PV console ring (domU). False if it has none. */
bool ConsoleUseRing(void);
/* Formats %s, %u and %%; a line goes out at its '\n'. */
void Printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Sends any partial line and waits (bounded) until the ring is consumed. */
void ConsoleDrain(void);

/* xenstore.c: a busy-polling client over the xenstore ring [xen/io/xs_wire.h].
 * Paths without a leading '/' are relative to /local/domain/<domid>. Calls
 * return NULL on success, else why they failed: Xen's error name ("ENOENT"),
 * or a reason that also makes every later call fail (timeouts, bad replies). */

/* Finds the ring from the HVM parameters. False if the domain has none. */
bool XsInit(void);
/* |value| gets the NUL-terminated value. */
const char *XsRead(const char *path, char *value, size_t cap);
/* |names| gets the children as NUL-terminated strings, |*len| bytes in all. */
const char *XsDirectory(const char *path, char *names, size_t cap, size_t *len);
const char *XsWrite(const char *path, const char *value);

/* string.c: the few string functions the probe and the compiler need. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Writes |value| in decimal, NUL-terminated, into |out| (21 bytes suffice). */
void FormatUnsigned(char *out, uint64_t value);
/* Parses all of |s| as a decimal number no larger than |max|. */
bool ParseUnsigned(const char *s, uint64_t max, uint64_t *value);
/* Concatenates the strings up to NULL into |out|. False if they do not fit. */
bool Concat(char *out, size_t cap, ...) __attribute__((sentinel));

#endif  /* SKIFF_TESTS_GUEST_PROBE_PROBE_H_ */
