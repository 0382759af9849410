// newlib's <signal.h>, with the sigaction flags it leaves out for this target, at Linux's
// values. Signals are raised only inside the guest (runtime/libc/process.cc).
#ifndef SKIFF_SIGNAL_H_
#define SKIFF_SIGNAL_H_

#include_next <signal.h>

#ifndef SA_RESTART
#define SA_RESTART 0x10000000
#endif
#ifndef SA_NODEFER
#define SA_NODEFER 0x40000000
#endif
#ifndef SA_RESETHAND
#define SA_RESETHAND 0x80000000
#endif

#endif  // SKIFF_SIGNAL_H_
