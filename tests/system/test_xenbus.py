"""Grants (and, as issue 5 goes on, xenstore and xenbus) under real Xen: tests/guest/xenbus.

Grants to the guest's own domain need its domid: 0 as a PVH dom0.
"""

import os
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
XENBUS_TEST = BUILD / "tests/guest/xenbus/xenbus_test.elf"


class GrantsInDom0(unittest.TestCase):
    def test_grant_copy_and_growth(self):
        rc, out = sandbox("dom0", XENBUS_TEST, "--cmdline", "grants 0")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        for line in ["grant copy moves a whole page out of a grant and the bytes match",
                     "grant copy writes 100 bytes into a grant at an offset",
                     "a copy across a page end is refused",
                     "a copy through a grant never offered fails",
                     "the grant table grows past its first frame",
                     "ended grants give their pages back"]:
            self.assertIn(f"[xenbus_test] ok: {line}", out)
        self.assertIn("Xen says invalid grant reference", out)


if __name__ == "__main__":
    unittest.main()
