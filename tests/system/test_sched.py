"""Event channels, time and the scheduler under real Xen: tests/guest/sched, booted by the
sandbox. Each guest case prints "ok: ..." or "FAIL: ..." lines and exits 0 only if all passed.

The event-channel stress runs as a PVH dom0 (about 30 s of hypercalls); the cases that
measure time run as domUs in one full-mode boot, where Xen reads the TSC natively.
"""

import os
import re
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
SCHED_TEST = BUILD / "tests/guest/sched/sched_test.elf"


class SchedInDom0(unittest.TestCase):
    def assertPasses(self, case, *extra):
        rc, out = sandbox("dom0", SCHED_TEST, "--cmdline", case, *extra)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("[sched_test] skiff: exit status 0", out)
        return out

    def test_100000_events_each_way_none_lost(self):
        out = self.assertPasses("events", "--timeout", "150")
        self.assertIn("ok: 100000 events each way through an interdomain pair, none lost", out)
        self.assertIn("ok: unmasking delivers the held event", out)
        self.assertIn("ok: a port that is always pending does not starve another", out)
        self.assertIn("ok: a handler closes its own channel, once, and the loop goes on", out)

    def test_1000_tasks_and_the_primitives(self):
        out = self.assertPasses("tasks")
        self.assertIn("ok: 1000 tasks passed a token 20 times round a ring", out)
        self.assertIn("ok: timers fire in deadline order; a cancelled one does not", out)

    def test_coroutines(self):
        out = self.assertPasses("skiff.upcall=vector coroutines")
        self.assertIn("ok: a coroutine awaits 100 events on a port", out)
        self.assertIn("events arrive through the per-vCPU vector", out)

    def test_the_callback_vector_fallback(self):
        out = self.assertPasses("skiff.upcall=callback coroutines")
        self.assertIn("events arrive through the callback vector", out)
        self.assertIn("ok: a coroutine awaits 100 events on a port", out)
        out = self.assertPasses("idle skiff.upcall=callback")
        self.assertIn("ok: the vCPU ran less than a tenth of the time it slept", out)

    def test_an_upcall_at_the_halt_instruction_is_not_lost(self):
        for case in ("skiff.upcall=vector halt-race", "halt-race"):
            out = self.assertPasses(case)
            self.assertIn("10 of 10 upcalls came at the hlt", out)
            self.assertIn("ok: an upcall taken at the hlt itself moves past it, and its event "
                          "arrives", out)

    def test_unknown_runtime_option(self):
        rc, out = sandbox("dom0", SCHED_TEST, "--cmdline", "skiff.upcall=magic idle")
        self.assertEqual(rc, 1, out)
        self.assertIn("skiff: unknown runtime option 'skiff.upcall=magic'", out)
        self.assertIn("FAIL: guest sched_test exited with status 2", out)

    def test_stack_overflow_names_the_task(self):
        rc, out = sandbox("dom0", SCHED_TEST, "--cmdline", "overflow")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL: guest sched_test crashed", out)
        self.assertRegex(out, r"skiff: stack overflow at 0x[0-9a-f]+ \(the guard below the "
                              r"stack of task 'deep-recursion'\)")
        self.assertIn("skiff: in task 'deep-recursion'", out)
        self.assertNotIn("the overflow was not caught", out)

    def test_bad_input_is_a_clear_error(self):
        out = self.assertPasses("errors")
        self.assertIn("error: event channel: binding VIRQ 99 failed: Xen says EINVAL", out)
        self.assertIn("error: event channel: send on a closed channel", out)
        self.assertIn("error: spawn 'tiny': a stack of 1024 bytes is too small; the least "
                      "is 8192", out)
        self.assertIn("ok: spawning still works afterwards", out)


class SchedAsDomU(unittest.TestCase):
    """One full-mode boot: sleeps, idleness, clocks, and the rest again as domUs."""

    @classmethod
    def setUpClass(cls):
        cls.rc, cls.out = sandbox(
            "full",
            SCHED_TEST, "--name", "clocks", "--cmdline", "clocks",
            SCHED_TEST, "--name", "tasks", "--cmdline", "tasks",
            SCHED_TEST, "--name", "co", "--cmdline", "coroutines",
            SCHED_TEST, "--name", "idle", "--cmdline", "idle",
            SCHED_TEST, "--name", "sleep", "--cmdline", "sleep",
            "--timeout", "120")

    def assertGuestPassed(self, name):
        self.assertIn(f"sandbox: guest {name}: exit status 0", self.out)
        self.assertNotIn(f"[{name}] FAIL", self.out)

    def test_sleeping_10_ms_wakes_10_to_15_ms_later(self):
        self.assertGuestPassed("sleep")
        slept = [int(us) for us in re.findall(r"\[sleep\] round \d: slept (\d+) us", self.out)]
        self.assertIn(len(slept), (20, 40, 60), self.out)
        self.assertTrue(all(us >= 10000 for us in slept), slept)
        last_round = slept[-20:]
        self.assertGreaterEqual(sum(us <= 15000 for us in last_round), 18, slept)

    def test_the_vcpu_halts_while_the_guest_sleeps(self):
        self.assertGuestPassed("idle")
        self.assertIn("[idle] ok: the vCPU ran less than a tenth of the time it slept", self.out)

    def test_clocks_and_libc_sleeps(self):
        self.assertGuestPassed("clocks")
        for line in ["CLOCK_REALTIME is after 2020", "steady_clock measures a 2 ms usleep",
                     "nanosleep sleeps 10 ms", "sleep(1) sleeps a second"]:
            self.assertIn(f"[clocks] ok: {line}", self.out)

    def test_tasks_and_coroutines_in_a_domu(self):
        self.assertGuestPassed("tasks")
        self.assertGuestPassed("co")


if __name__ == "__main__":
    unittest.main()
