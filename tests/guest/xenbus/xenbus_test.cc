// Guest tests of grants, xenstore and the xenbus frontend framework, one per run:
//   xenbus_test CASE [DOMID]
// Each case prints what it checked and returns 0, or prints "FAIL: ..." and returns 1.
// DOMID is for "grants" as a PVH dom0 (0); a domU reads its own from xenstore.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern "C" {
#include <xen/io/netif.h>
}

#include "runtime/xen/grant_table.h"
#include "runtime/xen/ring.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/xenstore.h"
#include "runtime/xen/xenbus.h"
#include "skiff/evtchn.h"
#include "skiff/grant.h"
#include "skiff/sched.h"
#include "skiff/skiff.h"
#include "tests/guest/check.h"

namespace {


// Maps a grant of this domain into its own physical address space, as a backend would, ends
// the grant while it is mapped, and checks that the page stays out of the allocator until
// the mapping goes. It runs last: after this domain unmaps its own page, Xen 4.17 answers
// "bad page" to grant copies through that page when it is granted again (seen in dom0), a
// state that only a domain mapping its own grants can reach.
void StillMapped(skiff::DomId self) {
  // A guest-physical address far above anything the guest uses (64 GiB).
  constexpr uint64_t kMapAt = uint64_t{64} << 30;
  auto page = skiff::GrantedPage::Offer(self);
  if (!page) {
    Fail(page.error().message.c_str());
    return;
  }
  gnttab_map_grant_ref_t map = {};
  map.host_addr = kMapAt;
  map.flags = GNTMAP_host_map;
  map.ref = page->ref().value;
  map.dom = self.value;
  long rc = skiff::xen::Hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref,
                                  reinterpret_cast<uint64_t>(&map), 1);
  if (rc != 0 || map.status != GNTST_okay) {
    printf("map_grant_ref: rc %ld, status %d\n", rc, map.status);
    Fail("map this domain's own grant, as a backend would");
    return;
  }
  uint64_t free_before = skiff::FreeMemory();
  { skiff::GrantedPage ended = std::move(*page); }   // ends the grant while it is mapped
  Check(skiff::FreeMemory() == free_before,
        "a grant ended while still mapped keeps its page out of the allocator");
  gnttab_unmap_grant_ref_t unmap = {};
  unmap.host_addr = kMapAt;
  unmap.handle = map.handle;
  rc = skiff::xen::Hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref,
                             reinterpret_cast<uint64_t>(&unmap), 1);
  Check(rc == 0 && unmap.status == GNTST_okay, "unmap the grant");
  // The next offer ends the grants that were still mapped and frees their pages.
  auto next = skiff::GrantedPage::Offer(self);
  Check(next.ok() && skiff::FreeMemory() == free_before,
        "once unmapped, the grant ends and its page comes back");
}

// Grants for I/O: copies to and from a task's stack (mapped above the direct map), a grant
// of a frame the app owns, and references held at once and pointed at another frame.
void GrantsForIo(skiff::DomId self) {
  auto page = skiff::GrantedPage::Offer(self);
  if (!page) {
    Fail(page.error().message.c_str());
    return;
  }
  auto* granted = static_cast<unsigned char*>(page->data());
  bool stack_ok = false;
  auto task = skiff::Spawn([&] {
    unsigned char on_stack[1000];   // in the task's stack, which is not in the direct map
    for (int i = 0; i < 1000; i++) on_stack[i] = static_cast<unsigned char>(i * 13 + 1);
    skiff::GrantCopy out = {self, page->ref(), 100, on_stack, 1000, true};
    skiff::Result<void> copied = skiff::CopyGrants(&out, 1);
    if (!copied) printf("error: %s\n", copied.error().message.c_str());
    unsigned char back[1000] = {};
    skiff::GrantCopy in = {self, page->ref(), 100, back, 1000, false};
    stack_ok = copied.ok() && memcmp(granted + 100, on_stack, 1000) == 0 &&
               skiff::CopyGrants(&in, 1).ok() && memcmp(back, on_stack, 1000) == 0;
  }, {.name = "stack-copier"});
  if (task) skiff::Join(*task);
  Check(stack_ok, "a grant copy to and from a buffer on a task's stack moves the right bytes");

  alignas(4096) static unsigned char owned[2][4096];
  memset(owned[0], 0x11, 4096);
  memset(owned[1], 0x22, 4096);
  auto grant = skiff::Grant::Offer(self, owned[0], true);
  unsigned char probe[64];
  skiff::GrantCopy read = {self, grant ? grant->ref() : skiff::GrantRef{}, 0, probe, 64, false};
  Check(grant.ok() && skiff::CopyGrants(&read, 1).ok() && probe[0] == 0x11 && probe[63] == 0x11,
        "a frame the app owns is granted and read through its grant");

  auto refs = skiff::GrantRefs::Reserve(11);
  if (!refs) {
    Fail(refs.error().message.c_str());
    return;
  }
  bool all = true;
  for (size_t i = 0; i < refs->size(); i++) {
    all = all && refs->Grant(i, self, *skiff::GfnOf(owned[i % 2]), true).ok();
  }
  read.ref = (*refs)[4];
  bool before = skiff::CopyGrants(&read, 1).ok() && probe[0] == 0x11;
  bool regranted = refs->Revoke(4).ok() && refs->Grant(4, self, *skiff::GfnOf(owned[1]), true).ok();
  bool after = skiff::CopyGrants(&read, 1).ok() && probe[0] == 0x22;
  Check(all && before && regranted && after,
        "11 references held at once; one is revoked and granted again to another frame");
  auto unmapped = skiff::GfnOf(reinterpret_cast<void*>(uint64_t{1} << 45));
  if (!unmapped) printf("error: %s\n", unmapped.error().message.c_str());
  Check(!unmapped && unmapped.error().code == EFAULT, "an unmapped address has no frame: EFAULT");
}

// Grants pages to this domain itself (|self| is its domid) and has Xen copy through them.
int Grants(skiff::DomId self) {
  auto page = skiff::GrantedPage::Offer(self);
  if (!page) return Fail(page.error().message.c_str());
  auto* bytes = static_cast<unsigned char*>(page->data());
  for (int i = 0; i < 4096; i++) bytes[i] = static_cast<unsigned char>(i * 7 + 3);
  alignas(4096) static unsigned char copy[4096];
  skiff::GrantCopy in = {self, page->ref(), 0, copy, 4096, false};
  skiff::Result<void> copied = skiff::CopyGrants(&in, 1);
  if (!copied) printf("error: %s\n", copied.error().message.c_str());
  Check(copied.ok() && memcmp(copy, bytes, 4096) == 0,
        "grant copy moves a whole page out of a grant and the bytes match");
  memset(copy, 0x5a, 100);
  skiff::GrantCopy out = {self, page->ref(), 1000, copy, 100, true};
  copied = skiff::CopyGrants(&out, 1);
  Check(copied.ok() && bytes[999] != 0x5a && bytes[1000] == 0x5a && bytes[1099] == 0x5a &&
            bytes[1100] != 0x5a,
        "grant copy writes 100 bytes into a grant at an offset");
  skiff::GrantCopy bad = {self, page->ref(), 4000, copy, 200, false};
  copied = skiff::CopyGrants(&bad, 1);
  if (!copied) printf("error: %s\n", copied.error().message.c_str());
  Check(!copied.ok() && copied.error().code == EINVAL, "a copy across a page end is refused");
  skiff::GrantCopy stale = {self, skiff::GrantRef{4000}, 0, copy, 16, false};
  copied = skiff::CopyGrants(&stale, 1);
  if (!copied) printf("error: %s\n", copied.error().message.c_str());
  Check(!copied.ok(), "a copy through a grant never offered fails");

  // More grants than one frame of the table holds (512 entries).
  std::vector<skiff::GrantedPage> many;
  for (int i = 0; i < 700; i++) {
    auto p = skiff::GrantedPage::Offer(self, true);
    if (!p) {
      printf("error: %s\n", p.error().message.c_str());
      break;
    }
    many.push_back(std::move(*p));
  }
  printf("%zu grants in %u of at most %u frames\n", many.size(), skiff::GrantTableFrames(),
         skiff::GrantTableMaxFrames());
  Check(many.size() == 700 && skiff::GrantTableFrames() >= 2,
        "the grant table grows past its first frame");
  uint64_t free_before = skiff::FreeMemory();
  many.clear();
  Check(skiff::FreeMemory() >= free_before + 700 * 4096, "ended grants give their pages back");
  GrantsForIo(self);
  StillMapped(self);   // last: see its comment
  return failures;
}

using skiff::xen::XenstoreClient;
using skiff::xen::XsTx;

XenstoreClient* Store() {
  auto store = skiff::xen::Xenstore();
  if (!store) {
    printf("FAIL: %s\n", store.error().message.c_str());
    return nullptr;
  }
  return *store;
}

// This domain's id, from its xenstore home.
int OwnDomid(XenstoreClient& store) {
  auto domid = store.Read("domid");
  if (!domid) {
    printf("FAIL: %s\n", domid.error().message.c_str());
    return -1;
  }
  return atoi(domid->c_str());
}

int NoXenstore() {
  auto store = skiff::xen::Xenstore();
  if (!store) printf("error: %s\n", store.error().message.c_str());
  Check(!store && store.error().code == ENODEV, "without xenstore, a clear error");
  return failures;
}

int Basics() {
  XenstoreClient* store = Store();
  if (store == nullptr) return 1;
  auto name = store->Read("name");
  int domid = OwnDomid(*store);
  if (name) printf("name %s, domid %d\n", name->c_str(), domid);
  Check(name.ok() && *name == "store", "reads its own name");
  Check(domid > 0, "reads its own domid");
  Check(store->Write("data/greeting", "hello from skiff").ok(), "writes under data/");
  auto back = store->Read("data/greeting");
  Check(back.ok() && *back == "hello from skiff", "reads it back");
  Check(store->Mkdir("data/dir").ok() && store->Write("data/dir/a", "1").ok() &&
            store->Write("data/dir/b", "2").ok(),
        "makes a directory with two nodes");
  auto list = store->Directory("data/dir");
  Check(list.ok() && list->size() == 2, "lists the directory");
  Check(store->Rm("data/dir").ok() && !store->Read("data/dir/a").ok(), "removes it");
  auto missing = store->Read("data/no-such-node");
  if (!missing) printf("error: %s\n", missing.error().message.c_str());
  Check(!missing && missing.error().code == ENOENT, "a missing node is ENOENT");
  auto denied = store->Write("/local/domain/0/name", "mine");
  if (!denied) printf("error: %s\n", denied.error().message.c_str());
  Check(!denied && denied.error().code == EACCES, "writing dom0's name is EACCES");
  auto perms = store->GetPermissions("data/greeting");
  Check(perms.ok() && !perms->empty() && (*perms)[0].domid.value == domid,
        "its own node's first permission names it");

  // Requests from several tasks at once.
  int ok = 0;
  std::vector<skiff::Task*> tasks;
  for (int i = 0; i < 8; i++) {
    auto t = skiff::Spawn([store, i, &ok] {
      char path[32], value[16];
      snprintf(path, sizeof(path), "data/task%d", i);
      snprintf(value, sizeof(value), "%d", i * i);
      for (int round = 0; round < 20; round++) {
        auto r = store->Write(path, value);
        auto v = store->Read(path);
        if (r.ok() && v.ok() && *v == value) ok++;
      }
    }, {.name = "store-client"});
    if (t) tasks.push_back(*t);
  }
  for (skiff::Task* t : tasks) skiff::Join(t);
  Check(ok == 160, "8 tasks with requests in flight at once all get their own replies");
  return failures;
}

// A watch fires when dom0 writes data/poke; a transaction that dom0's write of data/counter
// conflicts with is retried. The sandbox runs the dom0 side once this prints "ready".
int WatchAndTransaction() {
  XenstoreClient* store = Store();
  if (store == nullptr) return 1;
  skiff::Event poked, counted;
  std::string poke_value;
  auto poke = store->Watch("data/poke", [&](std::string_view) {
    auto v = store->Read("data/poke");
    if (v.ok()) {
      poke_value = *v;
      poked.Signal();
    }
  });
  auto counter = store->Watch("data/counter", [&](std::string_view) {
    auto v = store->Read("data/counter");
    if (v.ok() && *v == "41") counted.Signal();
  });
  if (!poke || !counter) return Fail("set the watches");
  int attempts = 0;
  auto done = store->Transaction([&](XsTx tx) -> skiff::Result<void> {
    attempts++;
    auto value = store->Read("data/counter", tx);
    int n = value.ok() ? atoi(value->c_str()) : 0;
    if (attempts == 1) {
      printf("ready for dom0\n");
      fflush(stdout);
      if (!counted.WaitUntil(skiff::Now() + 150'000'000'000)) {
        return skiff::MakeError(ETIMEDOUT, "dom0 never wrote data/counter");
      }
    }
    char next[16];
    snprintf(next, sizeof(next), "%d", n + 1);
    return store->Write("data/counter", next, tx);
  });
  if (!done) printf("error: %s\n", done.error().message.c_str());
  auto final_value = store->Read("data/counter");
  printf("transaction took %d attempts; data/counter is %s\n", attempts,
         final_value.ok() ? final_value->c_str() : "missing");
  Check(done.ok() && attempts >= 2 && final_value.ok() && *final_value == "42",
        "a transaction that dom0's write conflicted with was retried and committed");
  Check(poked.WaitUntil(skiff::Now() + 150'000'000'000) && poke_value == "hello",
        "a watch fired when dom0 ran xenstore-write");
  Check(store->Unwatch(*poke).ok() && store->Unwatch(*counter).ok(), "unwatches");
  return failures;
}

int GrantsInDomU() {
  XenstoreClient* store = Store();
  if (store == nullptr) return 1;
  int domid = OwnDomid(*store);
  return domid < 0 ? 1 : Grants(skiff::DomId{static_cast<uint16_t>(domid)});
}

// A frontend that publishes nothing: enough to walk the handshake.
class NullDriver : public skiff::xen::XenbusDriver {
 public:
  skiff::Result<void> Setup(const skiff::xen::XenbusDevice& d) override {
    printf("%s: set up (backend %s in domain %u)\n", d.node.c_str(), d.backend.c_str(),
           d.backend_id.value);
    return {};
  }
  skiff::Result<void> Connected(const skiff::xen::XenbusDevice& d) override {
    printf("%s: connected\n", d.node.c_str());
    return {};
  }
  void Teardown(const skiff::xen::XenbusDevice& d) override {
    printf("%s: torn down\n", d.node.c_str());
  }
};

// A vif frontend with just enough for netback to connect, as Linux's netfront does it: empty
// tx and rx rings shared with the backend, an event channel and request-rx-copy, published
// with WriteFrontendKeys, and Connected at once (XenbusOptions::connect_first); once netback
// has connected too, it reads the MAC address. It posts no receive buffers and sends nothing.
class VifStubDriver : public skiff::xen::XenbusDriver {
 public:
  using TxRing = skiff::xen::FrontRing<netif_tx_request_t, netif_tx_response_t>;
  using RxRing = skiff::xen::FrontRing<netif_rx_request_t, netif_rx_response_t>;

  explicit VifStubDriver(XenstoreClient& store) : store_(store) {}

  skiff::Result<void> Setup(const skiff::xen::XenbusDevice& d) override {
    if (!TRY(skiff::xen::ReadBackendFeature(store_, d, "feature-rx-copy"))) {
      return skiff::MakeError(ENODEV, "%s: netback does not copy received packets", d.node.c_str());
    }
    tx_page_.emplace(TRY(skiff::GrantedPage::Offer(d.backend_id)));
    rx_page_.emplace(TRY(skiff::GrantedPage::Offer(d.backend_id)));
    tx_.emplace(TRY(TxRing::Init(tx_page_->data(), 0, d.node + " tx")));
    rx_.emplace(TRY(RxRing::Init(rx_page_->data(), 0, d.node + " rx")));
    channel_.emplace(TRY(skiff::EventChannel::AllocUnbound(d.backend_id)));
    std::pair<std::string, std::string> keys[] = {
        {"tx-ring-ref", std::to_string(tx_page_->ref().value)},
        {"rx-ring-ref", std::to_string(rx_page_->ref().value)},
        {"event-channel", std::to_string(channel_->port().value)},
        {"request-rx-copy", "1"}};
    return skiff::xen::WriteFrontendKeys(store_, d, keys);
  }
  skiff::Result<void> Connected(const skiff::xen::XenbusDevice& d) override {
    skiff::xen::MacAddress mac = TRY(skiff::xen::ReadMac(store_, d.node + "/mac"));
    printf("%s: connected: mac %02x:%02x:%02x:%02x:%02x:%02x, %u tx and %u rx slots\n",
           d.node.c_str(), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], tx_->size(),
           rx_->size());
    connected = true;
    return {};
  }
  void Teardown(const skiff::xen::XenbusDevice& d) override {
    channel_.reset();
    tx_.reset();
    rx_.reset();
    tx_page_.reset();   // kept out of the allocator while netback still maps them
    rx_page_.reset();
    printf("%s: torn down\n", d.node.c_str());
  }

  bool connected = false;

 private:
  XenstoreClient& store_;
  std::optional<skiff::GrantedPage> tx_page_, rx_page_;
  std::optional<TxRing> tx_;
  std::optional<RxRing> rx_;
  std::optional<skiff::EventChannel> channel_;
};

// The vif (with the stub above) connects to netback; the vbd (with a driver that publishes
// nothing) reaches Initialised.
int Devices() {
  XenstoreClient* store = Store();
  if (store == nullptr) return 1;
  auto vifs = skiff::xen::Enumerate(*store, "vif");
  auto vbds = skiff::xen::Enumerate(*store, "vbd");
  if (!vifs || !vbds) return Fail("list the devices");
  printf("%zu vif devices, %zu vbd devices\n", vifs->size(), vbds->size());
  if (vifs->empty() || vbds->empty()) return Fail("found the devices");

  VifStubDriver vif_driver(*store);
  skiff::xen::XenbusFrontend vif(*store, vifs->front(), vif_driver, {.connect_first = true});
  if (auto started = vif.Start(); !started) return Fail("start the vif frontend");
  uint64_t deadline = skiff::Now() + 30'000'000'000;
  while (!vif_driver.connected && vif.error() == nullptr && skiff::Now() < deadline) {
    skiff::SleepFor(10'000'000);
  }
  if (vif.error() != nullptr) printf("error: %s\n", vif.error()->message.c_str());
  printf("vif: frontend %s, backend %s\n", skiff::xen::StateName(vif.state()),
         skiff::xen::StateName(vif.backend_state()));
  Check(vif_driver.connected && vif.state() == skiff::xen::XenbusState::kConnected &&
            vif.backend_state() == skiff::xen::XenbusState::kConnected,
        "a vif connects to netback through the framework, with empty tx and rx rings");

  NullDriver driver;
  skiff::xen::XenbusFrontend vbd(*store, vbds->front(), driver);
  if (auto started = vbd.Start(); !started) return Fail("start the vbd frontend");
  auto reached = vbd.WaitFor(skiff::xen::XenbusState::kInitialised, skiff::Now() + 30'000'000'000);
  if (!reached) printf("error: %s\n", reached.error().message.c_str());
  printf("vbd: frontend %s, backend %s\n", skiff::xen::StateName(vbd.state()),
         skiff::xen::StateName(vbd.backend_state()));
  Check(reached.ok(), "a vbd reaches Initialised through the framework");
  return failures;
}

// A vbd frontend with just enough to connect: an empty ring shared with the backend, an event
// channel, published with WriteFrontendKeys; once connected, reads the disk's size with
// ReadBackendUint. (A frontend that says Initialised without a ring makes blkback give up.)
class RingStubDriver : public skiff::xen::XenbusDriver {
 public:
  explicit RingStubDriver(XenstoreClient& store) : store_(store) {}

  skiff::Result<void> Setup(const skiff::xen::XenbusDevice& d) override {
    ring_ = TRY(skiff::GrantedPage::Offer(d.backend_id));   // zeroed: an empty blkif ring
    channel_ = TRY(skiff::EventChannel::AllocUnbound(d.backend_id));
    std::pair<std::string, std::string> keys[] = {
        {"ring-ref", std::to_string(ring_->ref().value)},
        {"event-channel", std::to_string(channel_->port().value)},
        {"protocol", "x86_64-abi"}};
    TRY(skiff::xen::WriteFrontendKeys(store_, d, keys));
    printf("%s: set up (backend %s in domain %u)\n", d.node.c_str(), d.backend.c_str(),
           d.backend_id.value);
    return {};
  }
  skiff::Result<void> Connected(const skiff::xen::XenbusDevice& d) override {
    sectors = TRY(skiff::xen::ReadBackendUint(store_, d, "sectors", UINT64_MAX));
    uint64_t size = TRY(skiff::xen::ReadBackendUint(store_, d, "sector-size", 65536));
    bool flush = TRY(skiff::xen::ReadBackendFeature(store_, d, "feature-flush-cache"));
    printf("%s: connected: %llu sectors of %llu bytes, flush %s\n", d.node.c_str(),
           static_cast<unsigned long long>(sectors), static_cast<unsigned long long>(size),
           flush ? "yes" : "no");
    return {};
  }
  void Teardown(const skiff::xen::XenbusDevice& d) override {
    channel_.reset();
    ring_.reset();   // kept out of the allocator while blkback still maps it
    printf("%s: torn down\n", d.node.c_str());
  }

  uint64_t sectors = 0;

 private:
  XenstoreClient& store_;
  std::optional<skiff::GrantedPage> ring_;
  std::optional<skiff::EventChannel> channel_;
};

// Follows device/vbd with a XenbusBus. Once this prints "ready for dom0", dom0 attaches a
// 16 MiB disk (xl block-attach) and a few seconds later detaches it (xl block-detach): the
// disk must be seen, connect, and be seen to go.
int Hotplug() {
  XenstoreClient* store = Store();
  if (store == nullptr) return 1;
  std::vector<std::string> added, removed;
  RingStubDriver* driver = nullptr;
  uint64_t sectors = 0;
  skiff::xen::XenbusBus bus(
      *store, "vbd",
      [&](const skiff::xen::XenbusDevice&) -> std::unique_ptr<skiff::xen::XenbusDriver> {
        auto made = std::make_unique<RingStubDriver>(*store);
        driver = made.get();
        return made;
      },
      {.added = [&](const skiff::xen::XenbusFrontend& f) {
         printf("%s: added\n", f.device().node.c_str());
         added.push_back(f.device().id);
       },
       .removed = [&](const skiff::xen::XenbusDevice& d) {
         printf("%s: removed\n", d.node.c_str());
         removed.push_back(d.id);
         driver = nullptr;
       },
       .error = [](const skiff::Error& e) { printf("error: %s\n", e.message.c_str()); }});
  if (auto started = bus.Start(); !started) return Fail(started.error().message.c_str());
  printf("ready for dom0\n");
  fflush(stdout);
  uint64_t deadline = skiff::Now() + 120'000'000'000;
  while (removed.empty() && skiff::Now() < deadline) {
    skiff::SleepFor(10'000'000);
    skiff::xen::XenbusFrontend* f = added.empty() ? nullptr : bus.Find(added.front());
    if (f != nullptr && f->state() == skiff::xen::XenbusState::kConnected && sectors == 0) {
      sectors = driver->sectors;
      printf("%s: frontend Connected, backend %s\n", f->device().node.c_str(),
             skiff::xen::StateName(f->backend_state()));
    }
    if (f != nullptr && f->error() != nullptr) {
      printf("error: %s\n", f->error()->message.c_str());
      break;
    }
  }
  Check(!added.empty() && sectors == 16 * 1024 * 1024 / 512,
        "a vbd attached with xl block-attach is seen by the hotplug watch and connects");
  Check(!removed.empty() && removed.front() == added.front() && bus.size() == 0,
        "a vbd detached with xl block-detach is seen too");
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view test = argc > 1 ? argv[1] : "";
  uint16_t domid = static_cast<uint16_t>(argc > 2 ? atoi(argv[2]) : 0);
  if (test == "grants") return argc > 2 ? Grants(skiff::DomId{domid}) : GrantsInDomU();
  if (test == "no-xenstore") return NoXenstore();
  if (test == "store") return Basics();
  if (test == "watch") return WatchAndTransaction();
  if (test == "devices") return Devices();
  if (test == "hotplug") return Hotplug();
  printf("FAIL: unknown test '%.*s'\n", static_cast<int>(test.size()), test.data());
  return 1;
}
