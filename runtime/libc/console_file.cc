// The console as a file: stdout and stderr write to it, stdin reads what a person types in
// `xl console`, line by line through the line discipline (tty.h). A task reading stdin
// parks until a line (or Ctrl-D) comes. A dom0's console input stays with Xen: there, stdin
// is at its end.
#include <signal.h>
#include <stdio.h>

#include <new>

#include "runtime/libc/posix.h"
#include "runtime/libc/tty.h"
#include "runtime/xen/console.h"
#include "skiff/evtchn.h"
#include "skiff/sched.h"

namespace skiff::posix {
namespace {

LineDiscipline tty;
WaitQueue readers;
EventChannel* input;   // the console ring's port, kept for the guest's life
bool input_started;

// Moves typed bytes from the ring into the line discipline and echoes them. Runs in the
// event loop when the console's port fires, and in a reader before it parks.
void TakeInput() {
  char buffer[256];
  size_t n;
  bool interrupt = false;
  while ((n = xen::ConsoleRead(buffer, sizeof(buffer))) > 0) {
    std::string echo;
    interrupt |= tty.Input(std::string_view(buffer, n), &echo);
    if (!echo.empty()) xen::ConsoleWrite(echo.data(), echo.size());
  }
  if (tty.ready()) {
    readers.WakeAll();
    NotifyPollers();
  }
  if (interrupt) DeliverSignal(SIGINT);
}

void StartInput() {
  if (input_started) return;
  input_started = true;
  if (xen::ConsolePort().value == 0) return;
  Result<EventChannel> channel = EventChannel::Adopt(xen::ConsolePort());
  if (channel) input = new (std::nothrow) EventChannel(std::move(*channel));
  if (input == nullptr) {
    xen::ConsolePrint("skiff: console input is not available: %s\n",
                      channel ? "out of memory" : channel.error().message.c_str());
    return;
  }
  input->SetHandler(TakeInput);
}

class ConsoleFile final : public File {
 public:
  explicit ConsoleFile(int flags) : File(flags) {}

  ssize_t Read(void* out, size_t len) override {
    if (len == 0) return 0;
    while (true) {
      TakeInput();
      if (tty.ready()) return static_cast<ssize_t>(tty.Read(static_cast<char*>(out), len));
      if (input == nullptr) return 0;   // no console input: stdin is at its end
      if (flags() & O_NONBLOCK) return -EAGAIN;
      // The port wakes us; the timeout only guards against an event taken elsewhere.
      readers.WaitUntil(Now() + 200'000'000);
    }
  }
  ssize_t Write(const void* data, size_t len) override {
    xen::ConsoleWrite(static_cast<const char*>(data), len);
    return static_cast<ssize_t>(len);
  }
  int Stat(struct stat* st) override {
    *st = {};
    st->st_mode = S_IFCHR | 0620;
    st->st_rdev = Dev(5, 1);
    st->st_blksize = 1024;
    return 0;
  }
  bool IsTerminal() const override { return true; }
  short Poll() override {
    TakeInput();
    bool readable = tty.ready() || input == nullptr;   // a line, or the end of the input
    return static_cast<short>((readable ? kPollIn : 0) | kPollOut);
  }
};

}  // namespace

int OpenConsole(int flags, File** out) {
  StartInput();
  *out = new (std::nothrow) ConsoleFile(flags);
  return *out != nullptr ? 0 : -ENOMEM;
}

}  // namespace skiff::posix
