// The guest's network on Xen: netfront on Xen's driver machine for each device/vif, an lwIP
// interface over each (eth0, eth1... in the order they appear, kept across reconnections), and
// eth0's address from the command line (skiff.ip=, skiff.netmask=, skiff.gw=) or DHCP.
#include <errno.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "drivers/netfront/netfront.h"
#include "net/stack.h"
#include "runtime/exit.h"
#include "runtime/xen/console.h"
#include "runtime/xen/driver_machine.h"
#include "runtime/xen/grants.h"
#include "runtime/xen/xenbus.h"
#include "runtime/xen/xenstore.h"

namespace skiff::net {
namespace {

constexpr uint64_t kBackendTimeout = 60'000'000'000;   // a hotplug script on a busy host
constexpr uint64_t kBootWait = 30'000'000'000;         // for the vifs there at boot
constexpr uint64_t kDhcpWait = 10'000'000'000;         // for a lease before main starts

struct Vif {
  std::string id;
  std::unique_ptr<Netfront> netfront;
  Interface* interface;
};

std::vector<Vif>* vifs;
xen::XenbusBus* bus;

// The bus's driver for one attachment of a vif; the netfront and its interface stay.
class Driver final : public xen::XenbusDriver {
 public:
  Driver(Netfront& netfront, xen::XenbusDevice device)
      : netfront_(netfront), device_(std::move(device)) {}
  ~Driver() override { netfront_.Teardown(device_); }
  Result<void> Setup(const xen::XenbusDevice& device) override { return netfront_.Setup(device); }
  Result<void> Connected(const xen::XenbusDevice& device) override {
    return netfront_.Connected(device);
  }
  void Teardown(const xen::XenbusDevice& device) override { netfront_.Teardown(device); }

 private:
  Netfront& netfront_;
  xen::XenbusDevice device_;
};

std::unique_ptr<xen::XenbusDriver> MakeDriver(xen::XenstoreClient& store,
                                              const xen::XenbusDevice& device) {
  for (Vif& vif : *vifs) {
    if (vif.id == device.id) return std::make_unique<Driver>(*vif.netfront, device);
  }
  auto netfront = std::make_unique<Netfront>(xen::XenDriverMachine(), store, "vif" + device.id);
  Netfront* link = netfront.get();
  Interface* interface = AddInterface(*link);
  interface->link_stats = [link] { return link->stats(); };
  interface->link_error = [link] { return link->error() ? link->error()->message : ""; };
  vifs->push_back({device.id, std::move(netfront), interface});
  return std::make_unique<Driver>(*link, device);
}

void Say(const Error& error) { xen::ConsolePrint("skiff: net: %s\n", error.message.c_str()); }

[[noreturn]] void BadOption(const char* option, const char* value, const Error& error) {
  xen::ConsolePrint("skiff: bad runtime option '%s=%s': %s\n", option, value,
                    error.message.c_str());
  ExitGuest(2);
}

// skiff.ip=A.B.C.D[/PREFIX], skiff.netmask=A.B.C.D, skiff.gw=A.B.C.D: eth0's static address
// (the netmask from the prefix, else skiff.netmask, else /24).
struct Static {
  Ipv4 address, netmask = Ipv4(255, 255, 255, 0), gateway;
};

Static ParseStatic(const char* ip, const char* netmask, const char* gw) {
  Static config;
  std::string_view text = ip;
  size_t slash = text.find('/');
  Result<Ipv4> address = Ipv4::Parse(text.substr(0, slash));
  if (!address) BadOption("skiff.ip", ip, address.error());
  config.address = *address;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int prefix = 0;
    bool ok = !digits.empty() && digits.size() <= 2;
    for (char c : digits) ok = ok && c >= '0' && c <= '9' && (prefix = prefix * 10 + c - '0') <= 32;
    if (!ok || prefix == 0) {
      BadOption("skiff.ip", ip, MakeError(EINVAL, "the prefix after '/' is 1 to 32"));
    }
    config.netmask = Ipv4::FromHostOrder(prefix == 32 ? ~0u : ~(~0u >> prefix));
  }
  if (netmask != nullptr) {
    Result<Ipv4> mask = Ipv4::Parse(netmask);
    if (!mask) BadOption("skiff.netmask", netmask, mask.error());
    config.netmask = *mask;
  }
  if (gw != nullptr) {
    Result<Ipv4> gateway = Ipv4::Parse(gw);
    if (!gateway) BadOption("skiff.gw", gw, gateway.error());
    config.gateway = *gateway;
  }
  return config;
}

void Announce(const InterfaceInfo& info, const char* how) {
  int prefix = __builtin_popcount(info.netmask.host_order());
  xen::ConsolePrint("skiff: net: %s %s/%d%s%s (%s)\n", info.name.c_str(),
                    info.address.ToString().c_str(), prefix,
                    info.gateway.any() ? "" : " via ", info.gateway.any() ? "" :
                    info.gateway.ToString().c_str(), how);
}

}  // namespace

void InitNet(const char* ip, const char* netmask, const char* gw) {
  if ((netmask != nullptr || gw != nullptr) && ip == nullptr) {
    xen::ConsolePrint("skiff: bad runtime options: skiff.netmask= and skiff.gw= go with "
                      "skiff.ip= (without it, eth0 asks DHCP)\n");
    ExitGuest(2);
  }
  std::optional<Static> config;
  if (ip != nullptr) config = ParseStatic(ip, netmask, gw);
  Result<xen::XenstoreClient*> store = xen::Xenstore();
  if (!store || xen::Grants() == nullptr) return;   // a PVH dom0, or no grant table
  InitStack();
  vifs = new std::vector<Vif>;
  xen::XenstoreClient* client = *store;
  Result<std::vector<xen::XenbusDevice>> at_boot = xen::Enumerate(*client, "vif");
  bus = new xen::XenbusBus(
      *client, "vif",
      [client](const xen::XenbusDevice& device) { return MakeDriver(*client, device); },
      {.error = Say},
      {.timeout_ns = kBackendTimeout, .connect_first = true,
       .failed = [](const xen::XenbusDevice&, const Error& error) { Say(error); }});
  if (Result<void> started = bus->Start(); !started) return Say(started.error());
  if (!at_boot) return Say(at_boot.error());
  if (at_boot->empty()) {
    if (ip != nullptr) xen::ConsolePrint("skiff: net: skiff.ip= given, but the guest has no vif\n");
    return;
  }
  // The vifs there at boot are up for main, as Linux's are for init.
  uint64_t deadline = Now() + kBootWait;
  for (const xen::XenbusDevice& device : *at_boot) {
    // The frontend says Connected first (XenbusOptions::connect_first); the link is up once
    // netback has followed.
    Result<xen::XenbusFrontend*> up = bus->WaitConnected(device.id, deadline);
    Interface* interface = nullptr;
    for (Vif& vif : *vifs) {
      if (vif.id == device.id) interface = vif.interface;
    }
    while (up && interface != nullptr && !netif_is_link_up(interface->netif()) &&
           (*up)->error() == nullptr) {
      if (!interface->changes().WaitUntil(deadline)) up = MakeError(ETIMEDOUT, "timed out");
    }
    if (!up && up.error().code == ETIMEDOUT) {   // a failed one has said why
      xen::ConsolePrint("skiff: net: %s did not connect in %llu s; main starts without it\n",
                        device.node.c_str(),
                        static_cast<unsigned long long>(kBootWait / 1'000'000'000));
    }
  }
  Result<Interface*> eth0 = FindInterface("eth0");
  if (!eth0) return Say(eth0.error());
  if (config) {
    if (Result<void> set = (*eth0)->Configure(config->address, config->netmask, config->gateway);
        !set) {
      BadOption("skiff.ip", ip, set.error());
    }
    Announce((*eth0)->info(), "static");
    return;
  }
  if (Result<void> dhcp = (*eth0)->StartDhcp(); !dhcp) return Say(dhcp.error());
  Result<InterfaceInfo> leased = WaitForAddress("eth0", Now() + kDhcpWait);
  if (!leased) {
    xen::ConsolePrint("skiff: net: eth0: no DHCP lease in %llu s; main starts without an "
                      "address (DHCP goes on asking; skiff.ip= sets one)\n",
                      static_cast<unsigned long long>(kDhcpWait / 1'000'000'000));
    return;
  }
  Announce(*leased, "DHCP");
}

}  // namespace skiff::net

extern "C" void skiff_init_net(const char* ip, const char* netmask, const char* gw) {
  skiff::net::InitNet(ip, netmask, gw);
}
