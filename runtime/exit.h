// How the guest ends (the exit contract, docs/sandbox.md).
#ifndef SKIFF_RUNTIME_EXIT_H_
#define SKIFF_RUNTIME_EXIT_H_

namespace skiff {

// Prints "skiff: exit status N", reports N (xenstore data/exit-status in a domU, port 0xf4
// in dom0) and powers the domain off.
[[noreturn]] void ExitGuest(int status);

}  // namespace skiff

#endif  // SKIFF_RUNTIME_EXIT_H_
