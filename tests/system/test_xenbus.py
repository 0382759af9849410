"""Grants, xenstore and the xenbus frontend framework under real Xen: tests/guest/xenbus.

Grants to the guest's own domain need its domid: 0 as a PVH dom0, read from xenstore as a
domU. The xenstore and device cases need a real dom0 with xenstored, netback and blkback, so
they share one full-mode boot; dom0's side of the watch and transaction tests, and the disk
attached and detached at run time for the hotplug test, run once the guests say they are
ready.
"""

import os
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
XENBUS_TEST = BUILD / "tests/guest/xenbus/xenbus_test.elf"
GRANT_LINES = ["grant copy moves a whole page out of a grant and the bytes match",
               "grant copy writes 100 bytes into a grant at an offset",
               "a copy across a page end is refused",
               "a copy through a grant never offered fails",
               "the grant table grows past its first frame",
               "ended grants give their pages back",
               "a grant ended while still mapped keeps its page out of the allocator",
               "once unmapped, the grant ends and its page comes back",
               "a grant copy to and from a buffer on a task's stack moves the right bytes",
               "a frame the app owns is granted and read through its grant",
               "11 references held at once; one is revoked and granted again to another frame",
               "an unmapped address has no frame: EFAULT"]


class InDom0(unittest.TestCase):
    def test_grant_copy_and_growth(self):
        rc, out = sandbox("dom0", XENBUS_TEST, "--cmdline", "grants 0")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        for line in GRANT_LINES:
            self.assertIn(f"[xenbus_test] ok: {line}", out)
        self.assertIn("Xen says invalid grant reference", out)

    def test_no_xenstore_is_a_clear_error(self):
        rc, out = sandbox("dom0", XENBUS_TEST, "--cmdline", "no-xenstore")
        self.assertEqual(rc, 0, out)
        self.assertIn("error: xenstore: none here (a PVH dom0 has no xenstore ring)", out)


class AsDomU(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        dom0_side = ("d=$(xl domid watch); xenstore-write /local/domain/$d/data/counter 41; "
                     "xenstore-write /local/domain/$d/data/poke hello")
        hotplug_side = ("truncate -s 16M /tmp/hotplug.img && "
                        "xl block-attach hotplug 'format=raw,vdev=xvdb,access=rw,"
                        "target=/tmp/hotplug.img' && sleep 5 && xl block-detach hotplug xvdb")
        # dom0's commands run once every guest is up and ready: "watch" goes last, so that they
        # follow its "ready" closely.
        cls.rc, cls.out = sandbox(
            "full",
            XENBUS_TEST, "--name", "store", "--cmdline", "store",
            XENBUS_TEST, "--name", "grants", "--cmdline", "grants",
            XENBUS_TEST, "--name", "devices", "--cmdline", "devices", "--vif", "--disk", "16M",
            XENBUS_TEST, "--name", "hotplug", "--cmdline", "hotplug", "--ready", "ready for dom0",
            XENBUS_TEST, "--name", "watch", "--cmdline", "watch", "--ready", "ready for dom0",
            "--cmd", dom0_side, "--cmd", hotplug_side, "--timeout", "240")

    def assertGuestPassed(self, name):
        self.assertIn(f"sandbox: guest {name}: exit status 0", self.out)
        self.assertNotIn(f"[{name}] FAIL", self.out)

    def test_read_write_and_many_tasks(self):
        self.assertGuestPassed("store")
        self.assertIn("[store] name store, domid ", self.out)
        for line in ["writes under data/", "reads it back", "lists the directory",
                     "a missing node is ENOENT", "writing dom0's name is EACCES",
                     "8 tasks with requests in flight at once all get their own replies"]:
            self.assertIn(f"[store] ok: {line}", self.out)

    def test_watch_and_conflicting_transaction(self):
        self.assertGuestPassed("watch")
        self.assertIn("[watch] ok: a watch fired when dom0 ran xenstore-write", self.out)
        self.assertIn("[watch] ok: a transaction that dom0's write conflicted with was "
                      "retried and committed", self.out)

    def test_grants_in_a_domu(self):
        self.assertGuestPassed("grants")
        for line in GRANT_LINES:
            self.assertIn(f"[grants] ok: {line}", self.out)

    def test_vif_connects_to_netback_and_vbd_reaches_initialised(self):
        self.assertGuestPassed("devices")
        self.assertIn("[devices] ok: a vif connects to netback through the framework, with empty "
                      "tx and rx rings", self.out)
        self.assertRegex(self.out, r"\[devices\] device/vif/0: connected: mac "
                                   r"([0-9a-f]{2}:){5}[0-9a-f]{2}, 256 tx and 256 rx slots")
        self.assertIn("[devices] vif: frontend Connected, backend Connected", self.out)
        self.assertIn("[devices] ok: a vbd reaches Initialised through the framework", self.out)

    def test_vbd_attached_and_detached_at_run_time(self):
        self.assertGuestPassed("hotplug")
        self.assertIn("[hotplug] ok: a vbd attached with xl block-attach is seen by the hotplug "
                      "watch and connects", self.out)
        self.assertIn("[hotplug] ok: a vbd detached with xl block-detach is seen too", self.out)
        self.assertIn("[hotplug] device/vbd/51728: connected: 32768 sectors of 512 bytes",
                      self.out)
        self.assertIn("[hotplug] device/vbd/51728: frontend Connected, backend Connected",
                      self.out)
        self.assertIn("[hotplug] device/vbd/51728: torn down", self.out)
        self.assertIn("[hotplug] device/vbd/51728: removed", self.out)


if __name__ == "__main__":
    unittest.main()
