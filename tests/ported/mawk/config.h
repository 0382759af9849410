/* config.h for mawk on a Skiff guest: what mawk's configure (config_h.in) would find there.
 * A guest runs one program: no fork, no pipes, so no system() and no "cmd" | getline. */
#define DECL_ENVIRON 1
#define GCC_NORETURN __attribute__((noreturn))
#define GCC_PRINTFLIKE(fmt, var) __attribute__((format(printf, fmt, var)))
#define GCC_SCANFLIKE(fmt, var) __attribute__((format(scanf, fmt, var)))
#define GCC_UNUSED __attribute__((unused))
#define HAVE_ERRNO_H 1
#define HAVE_FCNTL_H 1
#define HAVE_ISNAN 1
#define HAVE_MKTIME 1
#define HAVE_STRFTIME 1
#define HAVE_UNISTD_H 1
#define LOCALE 1
#define SIZE_T_STDDEF_H 1
#define SYSTEM_NAME "skiff"
/* Floating-point exceptions are masked (MXCSR 0x1f80, as on Linux): IEEE 754 results, no
 * SIGFPE; the builtin random number generator (no mawk_rand). */
#define TURN_OFF_FPE_TRAPS /* nothing */

#ifndef GCC_NORETURN
#define GCC_NORETURN /* nothing */
#endif
#ifndef GCC_UNUSED
#define GCC_UNUSED /* nothing */
#endif
#ifndef OPT_TRACE
#define OPT_TRACE 0
#endif
