#include "runtime/xen/xenbus.h"

#include <errno.h>
#include <stdio.h>

namespace skiff::xen {

const char* StateName(XenbusState state) {
  switch (state) {
    case XenbusState::kUnknown: return "Unknown";
    case XenbusState::kInitialising: return "Initialising";
    case XenbusState::kInitWait: return "InitWait";
    case XenbusState::kInitialised: return "Initialised";
    case XenbusState::kConnected: return "Connected";
    case XenbusState::kClosing: return "Closing";
    case XenbusState::kClosed: return "Closed";
    case XenbusState::kReconfiguring: return "Reconfiguring";
    case XenbusState::kReconfigured: return "Reconfigured";
  }
  return "invalid";
}

Result<XenbusDevice> ReadDevice(XenstoreClient& store, std::string_view type,
                                std::string_view id) {
  std::string node = "device/" + std::string(type) + "/" + std::string(id);
  XenbusDevice device{std::string(type), std::string(id), node, {}, {}};
  Result<std::string> backend = store.Read(device.node + "/backend");
  if (!backend) {
    return MakeError(backend.error().code, "xenbus: %s has no backend path: %s",
                     device.node.c_str(), backend.error().message.c_str());
  }
  Result<std::string> backend_id = store.Read(device.node + "/backend-id");
  uint32_t domid;
  if (!backend_id || !ParseDecimal(*backend_id, DOMID_FIRST_RESERVED - 1, &domid)) {
    return MakeError(EPROTO, "xenbus: %s has no valid backend-id", device.node.c_str());
  }
  if (backend->empty() || (*backend)[0] != '/') {
    return MakeError(EPROTO, "xenbus: %s names backend '%s', not an absolute path",
                     device.node.c_str(), backend->c_str());
  }
  device.backend = *backend;
  device.backend_id = DomId{static_cast<uint16_t>(domid)};
  return device;
}

Result<std::vector<XenbusDevice>> Enumerate(XenstoreClient& store, std::string_view type) {
  Result<std::vector<std::string>> ids = store.Directory("device/" + std::string(type));
  if (!ids) {
    if (ids.error().code == ENOENT) return std::vector<XenbusDevice>{};
    return ids.error();
  }
  std::vector<XenbusDevice> devices;
  for (const std::string& id : *ids) devices.push_back(TRY(ReadDevice(store, type, id)));
  return devices;
}

XenbusFrontend::XenbusFrontend(XenstoreClient& store, XenbusDevice device,
                               XenbusDriver& driver, XenbusOptions options)
    : store_(store), device_(std::move(device)), driver_(driver), options_(options) {}

XenbusFrontend::~XenbusFrontend() {
  if (task_ == nullptr) return;
  stopping_ = true;
  backend_changed_.Signal();
  Join(task_);
}

Result<void> XenbusFrontend::Start() {
  char name[48];
  snprintf(name, sizeof(name), "xenbus-%s-%s", device_.type.c_str(), device_.id.c_str());
  Result<Task*> task = Spawn([this] { Run(); }, {.name = name});
  if (!task) return task.error();
  task_ = *task;
  return {};
}

Result<void> XenbusFrontend::WaitFor(XenbusState state, uint64_t deadline) {
  while (state_ != state && !failed_) {
    if (!state_changed_.WaitUntil(deadline)) {
      return MakeError(ETIMEDOUT, "xenbus: %s is %s, not %s, and its backend is %s",
                       device_.node.c_str(), StateName(state_), StateName(state),
                       StateName(backend_state_));
    }
  }
  if (failed_) return error_;
  return {};
}

Result<void> XenbusFrontend::SetState(XenbusState state) {
  if (!removed_) {   // a removed device's node is not made again
    char value[4];
    snprintf(value, sizeof(value), "%d", static_cast<int>(state));
    TRY(store_.Write(device_.node + "/state", value));
  }
  state_ = state;
  state_changed_.WakeAll();
  return {};
}

Result<XenbusState> XenbusFrontend::ReadBackendState() {
  Result<std::string> text = store_.Read(device_.backend + "/state");
  if (!text) {
    // A backend that is gone (its directory removed) counts as Closed.
    if (text.error().code == ENOENT) return XenbusState::kClosed;
    return text.error();
  }
  uint32_t value;
  if (!ParseDecimal(*text, 8, &value)) {
    return MakeError(EPROTO, "xenbus: %s/state is '%s', not a xenbus state",
                     device_.backend.c_str(), text->c_str());
  }
  return static_cast<XenbusState>(value);
}

bool XenbusFrontend::Move(XenbusState state) {
  Result<void> r = SetState(state);
  if (!r) Fail(r.error());
  return r.ok();
}

void XenbusFrontend::Fail(Error error) {
  error_ = std::move(error);
  failed_ = true;
  if (options_.failed) options_.failed(device_, error_);
  state_changed_.WakeAll();
}

void XenbusFrontend::TearDownDriver() {
  if (!set_up_) return;
  driver_.Teardown(device_);
  set_up_ = false;
  connected_ = false;
}

void XenbusFrontend::Run() {
  Result<XsWatchId> watch = store_.Watch(device_.backend + "/state",
                                         [this](std::string_view) { backend_changed_.Signal(); });
  if (!watch) return Fail(watch.error());
  watch_ = *watch;
  if (Result<void> r = SetState(XenbusState::kInitialising); !r) return Fail(r.error());
  while (!stopping_) {
    Result<XenbusState> backend = ReadBackendState();
    if (!backend) {
      Fail(backend.error());
      break;
    }
    backend_state_ = *backend;
    state_changed_.WakeAll();
    if (!Step(*backend)) break;
    // Connected on both sides, or closed, the backend owes us nothing: wait without a limit.
    bool settled = (state_ == XenbusState::kConnected && *backend == XenbusState::kConnected) ||
                   state_ == XenbusState::kClosed;
    uint64_t deadline = settled ? kNever : Now() + options_.timeout_ns;
    if (!backend_changed_.WaitUntil(deadline) && !stopping_) {
      Fail(MakeError(ETIMEDOUT, "xenbus: %s timed out: the frontend is %s and its backend "
                     "(%s) stayed %s", device_.node.c_str(), StateName(state_),
                     device_.backend.c_str(), StateName(backend_state_)));
      break;
    }
  }
  TearDownDriver();
  // Closing, then Closed when asked to stop; only Closing after a failure, so the backend
  // lets go (as Linux's xenbus_dev_fatal does). A device already Closed stays so: a Closing
  // from a Closed frontend makes a backend start over.
  if (state_ != XenbusState::kClosed) {
    (void)SetState(XenbusState::kClosing);
    if (!failed_) (void)SetState(XenbusState::kClosed);
  }
  (void)store_.Unwatch(*watch_);
}

// The handshake, from the frontend's side [xen/io/xenbus.h]. Returns false to stop the task.
bool XenbusFrontend::Step(XenbusState backend) {
  switch (backend) {
    case XenbusState::kUnknown:
    case XenbusState::kInitialising:
    case XenbusState::kInitialised:
    case XenbusState::kReconfiguring:
    case XenbusState::kReconfigured:
      return true;   // the backend is on its way; wait for its next step
    case XenbusState::kInitWait:
      if (state_ == XenbusState::kClosed) {   // the backend came back
        if (!Move(XenbusState::kInitialising)) return false;
      }
      if (!set_up_) {
        if (Result<void> r = driver_.Setup(device_); !r) {
          Fail(r.error());
          return false;
        }
        set_up_ = true;
      }
      if (XenbusState ready = options_.connect_first ? XenbusState::kConnected
                                                     : XenbusState::kInitialised;
          state_ != ready) {
        if (!Move(ready)) return false;
      }
      return true;
    case XenbusState::kConnected:
      if (!set_up_) return true;   // connected to a previous incarnation of ours; wait
      if (!connected_) {
        if (Result<void> r = driver_.Connected(device_); !r) {
          Fail(MakeError(r.error().code, "xenbus: %s: the driver failed to connect: %s",
                         device_.node.c_str(), r.error().message.c_str()));
          return false;   // Run tears the driver down and says Closing
        }
        connected_ = true;
      }
      if (state_ != XenbusState::kConnected) {
        if (!Move(XenbusState::kConnected)) return false;
      }
      return true;
    case XenbusState::kClosing:   // the backend waits for us to close, as Linux's do
    case XenbusState::kClosed:
      TearDownDriver();
      if (state_ != XenbusState::kClosed) {
        if (!Move(XenbusState::kClosed)) return false;
      }
      return true;   // and wait: a backend that comes back starts over from InitWait
  }
  Fail(MakeError(EPROTO, "xenbus: %s: backend state %d is not a xenbus state",
                 device_.node.c_str(), static_cast<int>(backend)));
  return false;
}

}  // namespace skiff::xen
