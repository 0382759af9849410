// The xenbus frontend framework: finding devices under device/<type>/<id>, and the state
// handshake with their backends. [xen/io/xenbus.h] Portable: it speaks only to a
// XenstoreClient, so the unit tests run it against the fake xenstored.
//
// Each device gets a task ("xenbus-<type>-<id>") that follows the backend's state (a watch on
// <backend>/state) through one exhaustive switch, calling the driver to set up, connect and
// tear down, and answering with the frontend's own state: Initialising, then Initialised
// once the driver has published its rings, Connected once the backend is, Closed when it
// closes (Closing or Closed); and back to Initialising when it comes back. A backend that
// does not move on in time ends the task with an error that names the device and the state
// it waited in, and the frontend Closing.
#ifndef SKIFF_RUNTIME_XEN_XENBUS_H_
#define SKIFF_RUNTIME_XEN_XENBUS_H_

#include <stdint.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/xen/xenstore.h"
#include "skiff/result.h"
#include "skiff/sched.h"

namespace skiff::xen {

enum class XenbusState : int {
  kUnknown = 0,
  kInitialising = 1,
  kInitWait = 2,
  kInitialised = 3,
  kConnected = 4,
  kClosing = 5,
  kClosed = 6,
  kReconfiguring = 7,
  kReconfigured = 8,
};

const char* StateName(XenbusState state);

// A frontend's place in xenstore.
struct XenbusDevice {
  std::string type;       // "vif"
  std::string id;         // "0"
  std::string node;       // "device/vif/0"
  std::string backend;    // "/local/domain/0/backend/vif/1/0"
  DomId backend_id;
};

// The devices of |type| this domain has: device/<type>/*, each with its backend path and
// domain. A device whose backend entries are missing or malformed is an error naming it.
Result<std::vector<XenbusDevice>> Enumerate(XenstoreClient& store, std::string_view type);

// What a driver does at each step; each runs in the device's task and may block.
class XenbusDriver {
 public:
  virtual ~XenbusDriver() = default;
  // The backend waits for us (InitWait): make and publish rings and event channels.
  virtual Result<void> Setup(const XenbusDevice& device) = 0;
  // The backend is connected: start using the device.
  virtual void Connected(const XenbusDevice& device) = 0;
  // The backend is going or gone: stop using the device and free what Setup made.
  virtual void Teardown(const XenbusDevice& device) = 0;
};

struct XenbusOptions {
  uint64_t timeout_ns = 10'000'000'000;   // for the backend to take each step
};

class XenbusFrontend {
 public:
  XenbusFrontend(XenstoreClient& store, XenbusDevice device, XenbusDriver& driver,
                 XenbusOptions options = {});
  // Closes the device (Closing, then Closed, unless it is Closed) and joins its task.
  ~XenbusFrontend();
  XenbusFrontend(const XenbusFrontend&) = delete;
  XenbusFrontend& operator=(const XenbusFrontend&) = delete;

  // Starts the device's task.
  Result<void> Start();
  // Waits until the frontend is in |state|, the task has failed, or |deadline|.
  Result<void> WaitFor(XenbusState state, uint64_t deadline);

  XenbusState state() const { return state_; }
  XenbusState backend_state() const { return backend_state_; }
  const XenbusDevice& device() const { return device_; }
  // Why the task stopped, if it failed.
  const Error* error() const { return failed_ ? &error_ : nullptr; }

 private:
  void Run();
  // One step of the handshake for backend state |backend|; false to stop.
  bool Step(XenbusState backend);
  Result<void> SetState(XenbusState state);
  bool Move(XenbusState state);   // SetState, failing the task on error
  Result<XenbusState> ReadBackendState();
  void Fail(Error error);

  XenstoreClient& store_;
  XenbusDevice device_;
  XenbusDriver& driver_;
  XenbusOptions options_;
  XenbusState state_ = XenbusState::kUnknown;
  XenbusState backend_state_ = XenbusState::kUnknown;
  bool set_up_ = false;
  bool stopping_ = false;
  bool failed_ = false;
  Error error_;
  Event backend_changed_;
  WaitQueue state_changed_;
  std::optional<XsWatchId> watch_;
  Task* task_ = nullptr;
};

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_XENBUS_H_
