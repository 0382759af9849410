// The xenbus frontend framework: finding devices under device/<type>/<id>, and the state
// handshake with their backends. [xen/io/xenbus.h] Portable: it speaks only to a
// XenstoreClient, so the unit tests run it against the fake xenstored.
//
// Each device gets a task ("xenbus-<type>-<id>") that follows the backend's state (a watch on
// <backend>/state) through one exhaustive switch, calling the driver to set up, connect and
// tear down, and answering with the frontend's own state: Initialising, then Initialised
// once the driver has published its rings (or Connected at once, with
// XenbusOptions::connect_first), Connected once the backend is, Closed when it
// closes (Closing or Closed); and back to Initialising when it comes back. A backend that
// does not move on in time ends the task with an error that names the device and the state
// it waited in, and the frontend Closing.
//
// Drivers read their backend's keys with ReadBackendUint/ReadBackendFeature/ReadMac, which
// treat every value as hostile input, and publish theirs with WriteFrontendKeys, in one
// transaction. XenbusBus follows device/<type> so that devices attached and detached at run
// time get a driver and lose it.
#ifndef SKIFF_RUNTIME_XEN_XENBUS_H_
#define SKIFF_RUNTIME_XEN_XENBUS_H_

#include <stdint.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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

// The device device/<type>/<id>, with its backend path and domain; a missing or malformed
// backend entry is an error naming it.
Result<XenbusDevice> ReadDevice(XenstoreClient& store, std::string_view type, std::string_view id);

// The backend's <backend>/<key> as a decimal number up to |max|. A missing key is ENOENT, a
// value that is not a plain decimal number (no sign, space or leading zero) up to |max| is
// EPROTO; both name the path, and EPROTO quotes the value.
Result<uint64_t> ReadBackendUint(XenstoreClient& store, const XenbusDevice& device,
                                 std::string_view key, uint64_t max);
// The same, with |fallback| for a missing key.
Result<uint64_t> ReadBackendUint(XenstoreClient& store, const XenbusDevice& device,
                                 std::string_view key, uint64_t max, uint64_t fallback);
// A backend feature flag, <backend>/feature-*, as Linux reads one: a number, 0 (or missing)
// false and any other true; anything but a decimal number is an EPROTO error naming the key,
// the path and the value. [xen/io/netif.h, xen/io/blkif.h]
Result<bool> ReadBackendFeature(XenstoreClient& store, const XenbusDevice& device,
                                std::string_view key);

using MacAddress = std::array<uint8_t, 6>;
// "aa:bb:cc:dd:ee:ff" (hex digits of either case), exactly; anything else is nullopt.
std::optional<MacAddress> ParseMac(std::string_view text);
// The MAC address at |path| (netfront's is <frontend>/mac [xen/io/netif.h]). Missing is
// ENOENT; malformed is EPROTO quoting the value.
Result<MacAddress> ReadMac(XenstoreClient& store, std::string_view path);

// Writes each (key, value) under the device's node (relative keys: "ring-ref",
// "queue-0/tx-ring-ref") in one transaction, started over on a conflict (EAGAIN) as
// XenstoreClient::Transaction does, so the backend sees all of them or none. An empty key,
// an absolute one or one with an empty or ".." component is EINVAL, and nothing is written.
Result<void> WriteFrontendKeys(XenstoreClient& store, const XenbusDevice& device,
                               std::span<const std::pair<std::string, std::string>> keys);

// What a driver does at each step; each runs in the device's task and may block.
class XenbusDriver {
 public:
  virtual ~XenbusDriver() = default;
  // The backend waits for us (InitWait): make and publish rings and event channels.
  virtual Result<void> Setup(const XenbusDevice& device) = 0;
  // The backend is connected: read what it published (e.g. a disk's sectors) and start using
  // the device. An error fails the device as a failed Setup does, and Teardown follows.
  virtual Result<void> Connected(const XenbusDevice& device) = 0;
  // The backend is going or gone: stop using the device and free what Setup made.
  virtual void Teardown(const XenbusDevice& device) = 0;
};

struct XenbusOptions {
  uint64_t timeout_ns = 10'000'000'000;   // for the backend to take each step
  // Which side connects first. By default the frontend says Initialised once set up and
  // Connected once the backend is (blkback connects when the frontend is Initialised).
  // With |connect_first| it says Connected as soon as it is set up, and the driver's
  // Connected runs when the backend follows (netback connects only to a Connected frontend,
  // and Linux's netfront goes Connected straight from InitWait).
  bool connect_first = false;
  // Called in the device's task when it fails (the backend timed out, the driver failed), so
  // that a device attached at run time does not fail unseen.
  std::function<void(const XenbusDevice&, const Error&)> failed;
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
  // The toolstack removed the device's node: from now on the frontend writes nothing (a
  // write would make the node again), and its destructor only stops the task.
  void MarkRemoved() { removed_ = true; }

 private:
  void Run();
  // One step of the handshake for backend state |backend|; false to stop.
  bool Step(XenbusState backend);
  Result<void> SetState(XenbusState state);
  bool Move(XenbusState state);   // SetState, failing the task on error
  Result<XenbusState> ReadBackendState();
  void Fail(Error error);
  void TearDownDriver();

  XenstoreClient& store_;
  XenbusDevice device_;
  XenbusDriver& driver_;
  XenbusOptions options_;
  XenbusState state_ = XenbusState::kUnknown;
  XenbusState backend_state_ = XenbusState::kUnknown;
  bool set_up_ = false;
  bool connected_ = false;   // the driver's Connected has run since its Setup
  bool stopping_ = false;
  bool removed_ = false;
  bool failed_ = false;
  Error error_;
  Event backend_changed_;
  WaitQueue state_changed_;
  std::optional<XsWatchId> watch_;
  Task* task_ = nullptr;
};

// Makes the driver for a device.
using XenbusDriverFactory = std::function<std::unique_ptr<XenbusDriver>(const XenbusDevice&)>;

// Observers of a XenbusBus, called in its task.
struct XenbusBusCallbacks {
  std::function<void(const XenbusFrontend&)> added;    // its frontend has just started
  std::function<void(const XenbusDevice&)> removed;    // its frontend is gone, torn down
  std::function<void(const Error&)> error;             // a device or the listing failed
};

// The devices of one type, attached at boot or at run time (xl block-attach, network-attach):
// a task ("xenbus-bus-<type>") watches device/<type> and, on each change, lists it again.
// A new id gets a driver from the factory and a started XenbusFrontend; an id that is gone
// loses both (the frontend is stopped, writing nothing: the toolstack removes a device's node
// after its backend went Closing and the frontend answered Closed, or gave up waiting).
// A frontend that fails stays, failed, until its node goes.
class XenbusBus {
 public:
  XenbusBus(XenstoreClient& store, std::string type, XenbusDriverFactory factory,
            XenbusBusCallbacks callbacks = {}, XenbusOptions options = {});
  // Stops the task and destroys every frontend, which closes its device.
  ~XenbusBus();
  XenbusBus(const XenbusBus&) = delete;
  XenbusBus& operator=(const XenbusBus&) = delete;

  // Sets the watch and starts the task, which lists the devices there are at once.
  Result<void> Start();

  // The frontend of device/<type>/<id>, or null.
  XenbusFrontend* Find(std::string_view id);
  // Waits until device |id|'s frontend is there and Connected: for the devices there at boot,
  // which the app expects ready. ETIMEDOUT at |deadline|; EIO if it failed (the bus's
  // callbacks have said why).
  Result<XenbusFrontend*> WaitConnected(std::string_view id, uint64_t deadline);
  size_t size() const { return devices_.size(); }

 private:
  struct Attached {
    std::unique_ptr<XenbusDriver> driver;
    std::unique_ptr<XenbusFrontend> frontend;   // declared last: goes before its driver
  };

  void Run();
  void Rescan();
  void Add(const std::string& id);
  void Remove(std::map<std::string, Attached>::iterator it);
  void Report(const Error& error);

  XenstoreClient& store_;
  std::string type_;
  XenbusDriverFactory factory_;
  XenbusBusCallbacks callbacks_;
  XenbusOptions options_;
  std::map<std::string, Attached> devices_;   // by id
  Event changed_;
  bool stopping_ = false;
  std::optional<XsWatchId> watch_;
  Task* task_ = nullptr;
};

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_XENBUS_H_
