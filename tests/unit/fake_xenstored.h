// An in-process xenstored for the xenstore client's host tests. It serves the wire protocol on
// a real xenstore_domain_interface from the fake platform's event loop (each PollEvents), and
// raises an event channel port whenever it moves an index, as xenstored does. It keeps a tree
// of nodes with values and permissions, transactions on snapshots (a commit after any other
// change is EAGAIN), and watches (fired on changes at or under their path, and once when set).
// It parses requests with its own code, not the client's codec, so one bug cannot hide
// another. The fault knobs below make it misbehave on purpose.
#ifndef SKIFF_TESTS_UNIT_FAKE_XENSTORED_H_
#define SKIFF_TESTS_UNIT_FAKE_XENSTORED_H_

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/xen/xenstore.h"
#include "tests/unit/fake_platform.h"

namespace skiff {

class FakeXenstored {
 public:
  struct Node {
    std::string value;
    std::string permissions = std::string("n0", 3);   // as on the wire
  };
  using Tree = std::map<std::string, Node>;

  FakeXenstored(FakePlatform* platform, evtchn_port_t port);
  ~FakeXenstored() { Stop(); }
  FakeXenstored(const FakeXenstored&) = delete;
  FakeXenstored& operator=(const FakeXenstored&) = delete;

  // Leaves the event loop; call while the scheduler is current.
  void Stop();

  // The client's side: the ring, and a notify that counts kicks.
  xen::XsRing ClientRing();
  xenstore_domain_interface& ring() { return ring_; }

  // Sends replies held by hold_replies, in reverse order if |reversed|.
  void ReleaseHeld(bool reversed);
  // Queues raw bytes for the reply ring, e.g. a watch event nobody asked for.
  void SendRaw(const std::string& bytes);
  void SendWatchEvent(const std::string& path, const std::string& token);
  // Moves rsp_prod more than a ring ahead of rsp_cons.
  void RunAhead();
  // Changes the tree as another domain (dom0, a backend) would, firing watches.
  void Put(const std::string& path, const std::string& value);
  void Remove(const std::string& path);   // |path| and everything under it

  Tree nodes;
  uint64_t requests = 0;   // answered or held
  uint64_t kicks = 0;      // the client's notifications
  std::vector<std::pair<std::string, std::string>> writes;   // the client's XS_WRITEs, in order

  // Faults.
  bool stalled = false;             // reads and writes nothing
  size_t reply_chunk = SIZE_MAX;    // reply bytes written per turn of the loop
  bool hold_replies = false;        // keeps replies for ReleaseHeld
  int wrong_req_id = 0;             // the next so many replies carry an id nobody sent
  int oversized = 0;                // ... have a payload over XENSTORE_PAYLOAD_MAX
  int wrong_type = 0;               // ... have the type of another request
  int unknown_type = 0;             // ... have a type the protocol lacks
  int eagain_commits = 0;           // the next so many commits fail with EAGAIN
  size_t held() const { return held_.size(); }
  size_t watch_count() const { return watches_.size(); }

 private:
  struct Transaction {
    Tree nodes;
    uint64_t generation;                 // of the tree when it started
    std::vector<std::string> changed;    // paths to fire watches for on commit
  };
  struct Watch {
    std::string path;
    std::string token;
  };

  void Poll();
  void ReadRequests();
  void WriteReplies();
  void Handle(const xsd_sockmsg& header, const std::string& payload);
  // Answers |header|'s request; applies the reply faults.
  void Reply(const xsd_sockmsg& header, uint32_t type, std::string payload);
  void ReplyError(const xsd_sockmsg& header, const char* name);
  void Changed(Transaction* tx, const std::string& path, bool removed);
  void FireWatches(const std::string& path, bool removed);
  static void CreateParents(Tree* tree, const std::string& path);

  FakePlatform* platform_;
  evtchn_port_t port_;
  xenstore_domain_interface ring_ = {};
  std::string in_;    // request bytes read, not yet handled
  std::string out_;   // reply bytes not yet in the ring
  std::vector<std::string> held_;
  std::vector<Watch> watches_;
  std::map<uint32_t, Transaction> transactions_;
  uint32_t next_tx_ = 1;
  uint64_t generation_ = 0;
  Timer tick_;   // keeps the clock creeping, not jumping, while there is work in the rings
};

}  // namespace skiff

#endif  // SKIFF_TESTS_UNIT_FAKE_XENSTORED_H_
