// XenbusBus: the devices of one type, followed through a watch on device/<type> as the
// toolstack attaches and detaches them. [xen/io/xenbus.h]
//
// Detaching (xl block-detach, network-detach) goes: the toolstack sets the backend Closing,
// the frontend answers Closed (XenbusFrontend does), the backend closes, and the toolstack
// removes both directories, or removes them anyway after a timeout. Here, a device whose id
// is no longer listed loses its frontend and driver.
#include <errno.h>
#include <stdio.h>

#include <algorithm>

#include "runtime/xen/xenbus.h"

namespace skiff::xen {

XenbusBus::XenbusBus(XenstoreClient& store, std::string type, XenbusDriverFactory factory,
                     XenbusBusCallbacks callbacks, XenbusOptions options)
    : store_(store),
      type_(std::move(type)),
      factory_(std::move(factory)),
      callbacks_(std::move(callbacks)),
      options_(options) {}

XenbusBus::~XenbusBus() {
  if (watch_) (void)store_.Unwatch(*watch_);
  if (task_ != nullptr) {
    stopping_ = true;
    changed_.Signal();
    Join(task_);
  }
  // In order of id: each frontend closes its device, then its driver goes.
  while (!devices_.empty()) devices_.erase(devices_.begin());
}

Result<void> XenbusBus::Start() {
  watch_ = TRY(store_.Watch("device/" + type_, [this](std::string_view) { changed_.Signal(); }));
  char name[48];
  snprintf(name, sizeof(name), "xenbus-bus-%s", type_.c_str());
  task_ = TRY(Spawn([this] { Run(); }, {.name = name}));
  return {};
}

XenbusFrontend* XenbusBus::Find(std::string_view id) {
  auto it = devices_.find(std::string(id));
  return it == devices_.end() ? nullptr : it->second.frontend.get();
}

Result<XenbusFrontend*> XenbusBus::WaitConnected(std::string_view id, uint64_t deadline) {
  XenbusFrontend* frontend = nullptr;
  while ((frontend = Find(id)) == nullptr) {
    if (Now() >= deadline) return MakeError(ETIMEDOUT, "device/%s/%.*s did not appear in time",
                                            type_.c_str(), static_cast<int>(id.size()), id.data());
    SleepFor(1'000'000);
  }
  Result<void> up = frontend->WaitFor(XenbusState::kConnected, deadline);
  if (up) return frontend;
  if (frontend->error() != nullptr || up.error().code != ETIMEDOUT) {
    return MakeError(EIO, "device/%s/%.*s failed", type_.c_str(), static_cast<int>(id.size()),
                     id.data());
  }
  return up.error();
}

// Any change under device/<type> (a device's node made or removed, or one of its keys,
// including the frontends' own state writes) makes it list the devices again.
void XenbusBus::Run() {
  while (!stopping_) {
    Rescan();
    changed_.Wait();
  }
}

void XenbusBus::Rescan() {
  Result<std::vector<std::string>> listed = store_.Directory("device/" + type_);
  if (!listed && listed.error().code != ENOENT) return Report(listed.error());
  std::vector<std::string> ids = listed ? std::move(*listed) : std::vector<std::string>{};
  for (auto it = devices_.begin(); it != devices_.end() && !stopping_;) {
    auto next = std::next(it);
    if (std::find(ids.begin(), ids.end(), it->first) == ids.end()) Remove(it);
    it = next;
  }
  for (const std::string& id : ids) {
    if (stopping_) return;
    if (!devices_.contains(id)) Add(id);
  }
}

// A device whose entries are incomplete or malformed is reported, and tried again at the
// next change.
void XenbusBus::Add(const std::string& id) {
  Result<XenbusDevice> device = ReadDevice(store_, type_, id);
  if (!device) return Report(device.error());
  std::unique_ptr<XenbusDriver> driver = factory_(*device);
  if (driver == nullptr) {
    return Report(MakeError(ENODEV, "xenbus: %s: no driver for it", device->node.c_str()));
  }
  Attached& attached = devices_[id];
  attached.driver = std::move(driver);
  attached.frontend =
      std::make_unique<XenbusFrontend>(store_, std::move(*device), *attached.driver, options_);
  if (Result<void> started = attached.frontend->Start(); !started) {
    devices_.erase(id);
    return Report(started.error());
  }
  if (callbacks_.added) callbacks_.added(*attached.frontend);
}

void XenbusBus::Remove(std::map<std::string, Attached>::iterator it) {
  XenbusDevice device = it->second.frontend->device();
  it->second.frontend->MarkRemoved();
  devices_.erase(it);   // stops the frontend's task, tearing the driver down, then the driver
  if (callbacks_.removed) callbacks_.removed(device);
}

void XenbusBus::Report(const Error& error) {
  if (callbacks_.error) callbacks_.error(error);
}

}  // namespace skiff::xen
