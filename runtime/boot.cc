#include "runtime/boot.h"

#include <stdlib.h>

#include <string_view>

#include "runtime/arch/x86/cpu.h"
#include "runtime/arch/x86/idt.h"
#include "runtime/arch/x86/paging.h"
#include "runtime/cmdline.h"
#include "runtime/exit.h"
#include "runtime/libc/posix.h"
#include "runtime/mm/memory.h"
#include "runtime/mm/stacks.h"
#include "runtime/xen/console.h"
#include "runtime/xen/grants.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/loop.h"
#include "runtime/xen/shared_info.h"
#include "runtime/xen/start_info.h"
#include "runtime/xen/xenstore.h"
#include "runtime/xen/xenstore_exit.h"
#include "skiff/skiff.h"

extern "C" int main(int argc, char** argv);
extern "C" void __libc_init_array();
// The app's name, argv[0]; each app image defines it (meson's skiff_app()).
extern "C" const char skiff_app_name[];
// The size of main's stack an app may choose at link time, by defining it (in the file with
// main): extern "C" const size_t skiff_main_stack_size = 16 << 20;
extern "C" const size_t skiff_main_stack_size __attribute__((weak));
// Defined by drivers/blkfront, when the app links it (skiff_blk).
extern "C" void skiff_init_disks() __attribute__((weak));
extern "C" void skiff_init_net(const char* ip, const char* netmask, const char* gw)
    __attribute__((weak));
// Moves to the stack whose top is |top| and calls |fn| there; never returns.
extern "C" [[noreturn]] void skiff_run_on_stack(char* top, void (*fn)());

asm(R"(
        .text
        .globl skiff_run_on_stack
skiff_run_on_stack:
        movq %rdi, %rsp
        xorl %ebp, %ebp                     // ends the frame-pointer chain for backtraces
        call *%rsi
        ud2
)");

namespace skiff {
namespace {

constexpr int kMaxArgs = 256;
// Below this much free memory after boot, an app cannot do anything useful.
constexpr uint64_t kMinFreeBytes = 512 * 1024;

xen::StartInfo boot_info;
char* argv[kMaxArgs + 1];
uint64_t entry_tsc;
uint64_t main_tsc;

// Without Xen there is no console: say so on the debug port and leave through 0xf4.
[[noreturn]] void NotOnXen() {
  for (const char* p = "skiff: not running on Xen (no Xen CPUID leaves)\n"; *p; p++) {
    asm volatile("outb %0, $0xe9" ::"a"(*p));
  }
  x86::OutL(0xf4, 1);
  for (;;) x86::Halt();
}

[[noreturn]] void BootError(const char* what) {
  xen::ConsolePrint("skiff: boot failed: %s\n", what);
  x86::Crash("boot failed");
}

// Ends the boot with a message when what is left after the image (and the page tables) is
// too little for an app to do anything: a setting to change, not a crash.
[[noreturn]] void TooLittleMemory() {
  uint64_t free = mm::Pages().free_frames() * mm::kPageSize;
  xen::ConsolePrint("skiff: too little memory: %lu KiB of RAM leaves %lu KiB free after "
                    "boot; Skiff needs at least %lu KiB free (give the guest more memory)\n",
                    mm::TotalRam() >> 10, free >> 10, kMinFreeBytes >> 10);
  ExitGuest(2);
}

void SetUpMemory() {
  if (Result<void> r = mm::InitMemory(boot_info); !r) BootError(r.error().message.c_str());
  // The rings of the console and xenstore live outside RAM; map them too.
  uint64_t extra[2];
  int count = 0;
  for (const xen::DomainRing& ring : {boot_info.console, boot_info.store}) {
    if (ring.present()) extra[count++] = ring.gfn.value << 12;
  }
  if (!x86::BuildPageTables(boot_info, extra, count, mm::Pages())) TooLittleMemory();
  if (mm::Pages().free_frames() * mm::kPageSize < kMinFreeBytes) TooLittleMemory();
}

// main's stack, mapped on demand: address space is cheap, and memory is used only as deep
// as main goes. Linux gives a process 8 MiB.
constexpr size_t kDefaultMainStack = 8 << 20;
constexpr size_t kMaxMainStack = size_t{1} << 30;

struct RuntimeOptions {
  bool callback_upcall = true;   // skiff.upcall=vector for the per-vCPU vector (docs/concurrency.md)
  char* env[kMaxArgs];   // the KEY=VALUE of each skiff.env=
  int env_count = 0;
  const char* ip = nullptr;        // skiff.ip=, skiff.netmask=, skiff.gw=: for skiff_net
  const char* netmask = nullptr;
  const char* gw = nullptr;
  size_t main_stack = 0;   // from skiff.main-stack=, else the app's or the default
} options;

// "512K", "8M", "1G" or a number of bytes; false when it is none of these.
bool ParseSize(std::string_view text, size_t* bytes) {
  size_t n = 0, digits = 0;
  for (; digits < text.size() && text[digits] >= '0' && text[digits] <= '9'; digits++) {
    if (n > kMaxMainStack) return false;
    n = n * 10 + static_cast<size_t>(text[digits] - '0');
  }
  std::string_view unit = text.substr(digits);
  int shift = unit == "" ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : -1;
  if (digits == 0 || shift < 0 || n > (kMaxMainStack >> shift)) return false;
  *bytes = n << shift;
  return true;
}

// Words of the command line that start with "skiff." are the runtime's, not the app's:
// takes them out of argv and returns the new argc. An unknown one ends the guest.
int TakeRuntimeOptions(int argc, char** args) {
  int kept = 1;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = args[i];
    if (arg.substr(0, 6) != "skiff.") {
      args[kept++] = args[i];
    } else if (arg == "skiff.upcall=vector") {
      options.callback_upcall = false;
    } else if (arg == "skiff.upcall=callback") {
      options.callback_upcall = true;
    } else if (arg.substr(0, 10) == "skiff.env=") {
      options.env[options.env_count++] = args[i] + 10;
    } else if (arg.substr(0, 9) == "skiff.ip=") {
      options.ip = args[i] + 9;
    } else if (arg.substr(0, 14) == "skiff.netmask=") {
      options.netmask = args[i] + 14;
    } else if (arg.substr(0, 9) == "skiff.gw=") {
      options.gw = args[i] + 9;
    } else if (arg.substr(0, 17) == "skiff.main-stack=") {
      if (!ParseSize(arg.substr(17), &options.main_stack) || options.main_stack < kMinStackSize) {
        xen::ConsolePrint("skiff: bad runtime option '%s': the size of main's stack is a "
                          "number of bytes with K, M or G, from 8K to 1G\n", args[i]);
        ExitGuest(2);
      }
    } else {
      xen::ConsolePrint("skiff: unknown runtime option '%s' (the runtime knows "
                        "skiff.upcall=vector|callback, skiff.main-stack=SIZE, "
                        "skiff.env=KEY=VALUE, skiff.ip=A.B.C.D[/N], skiff.netmask=A.B.C.D and "
                        "skiff.gw=A.B.C.D)\n", args[i]);
      ExitGuest(2);
    }
  }
  args[kept] = nullptr;
  return kept;
}

int argc;
sched::Stack main_stack;

// The rest of the boot, on main's own stack, which becomes the task "main".
[[noreturn]] void RunMain() {
  xen::StartEventLoop(main_stack, options.callback_upcall);
  xen::InitGrants(boot_info);
  xen::StartXenstore(boot_info);
  posix::InitPosix(boot_info, options.env, options.env_count);
  if (skiff_init_disks != nullptr) skiff_init_disks();   // apps that link skiff_blk
  if (skiff_init_net != nullptr) {                       // apps that link skiff_net
    skiff_init_net(options.ip, options.netmask, options.gw);
  } else if (options.ip != nullptr || options.netmask != nullptr || options.gw != nullptr) {
    xen::ConsolePrint("skiff: skiff.ip=, skiff.netmask= and skiff.gw= are for apps that use "
                      "the network (link skiff_net); this one does not\n");
  }
  __libc_init_array();   // global constructors
  main_tsc = x86::ReadTsc();
  exit(main(argc, argv));
}

// Maps main's stack (on demand) and moves there, for the rest of the boot and main.
[[noreturn]] void MoveToMainStack() {
  size_t size = options.main_stack;
  if (size == 0 && &skiff_main_stack_size != nullptr) size = skiff_main_stack_size;
  if (size == 0) size = kDefaultMainStack;
  size = (size + mm::kPageSize - 1) & ~(mm::kPageSize - 1);
  if (size < kMinStackSize || size > kMaxMainStack) {
    xen::ConsolePrint("skiff: the app's skiff_main_stack_size, %zu bytes, is not from 8 KiB "
                      "to 1 GiB\n", size);
    ExitGuest(2);
  }
  Result<sched::Stack> stack = mm::AllocateStack(size, "main", /*on_demand=*/true);
  if (!stack) BootError(stack.error().message.c_str());
  main_stack = *stack;
  skiff_run_on_stack(main_stack.base + main_stack.size, RunMain);
}

}  // namespace

bool IsDom0() { return boot_info.dom0; }
uint64_t EntryTsc() { return entry_tsc; }
uint64_t MainTsc() { return main_tsc; }
uint64_t EntryToMainNanoseconds() { return xen::TscToNanoseconds(main_tsc - entry_tsc); }
uint64_t TotalMemory() { return mm::TotalRam(); }
uint64_t FreeMemory() { return mm::Pages().free_frames() * mm::kPageSize; }

}  // namespace skiff

extern "C" [[noreturn]] void SkiffBoot(uint64_t start_info_paddr, uint64_t entry_tsc) {
  using namespace skiff;
  skiff::entry_tsc = entry_tsc;
  if (!xen::InstallHypercallPage()) NotOnXen();
  Result<void> have_start_info = xen::ReadStartInfo(start_info_paddr, &boot_info);
  xen::ConsoleInit(boot_info);
  x86::InstallIdt();
  if (!have_start_info) BootError(have_start_info.error().message.c_str());
  if (Result<void> r = xen::MapSharedInfo(); !r) BootError(r.error().message.c_str());
  SetUpMemory();
  if (!boot_info.dom0 && !xen::XenstoreExitInit(boot_info)) {
    xen::ConsolePrint("skiff: no xenstore ring; the exit status goes to the console only\n");
  }
  if (boot_info.cmdline_too_long) {
    xen::ConsolePrint("skiff: the command line is %zu bytes, longer than the limit of %zu\n",
                      boot_info.cmdline_length, xen::kMaxCmdline - 1);
    ExitGuest(2);
  }
  argv[0] = const_cast<char*>(skiff_app_name);
  ParsedCmdline parsed = SplitCmdline(boot_info.cmdline, argv, 1, kMaxArgs);
  if (parsed.error != nullptr) {
    xen::ConsolePrint("skiff: bad command line: %s\n", parsed.error);
    ExitGuest(2);
  }
  skiff::argc = TakeRuntimeOptions(parsed.argc, argv);
  MoveToMainStack();
}
