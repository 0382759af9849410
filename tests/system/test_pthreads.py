"""POSIX threads on Skiff's tasks under real Xen: tests/guest/pthreads, a C program that uses
<pthread.h> and <semaphore.h> as a ported one would, booted by the sandbox as a PVH dom0, and
some cases again as domUs in one full-mode boot. Each boot runs the cases named on the command
line; each case prints "ok: ..." or "FAIL: ..." lines, and the guest exits with the number of
failures.
"""

import os
import re
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
PTHREADS_TEST = BUILD / "tests/guest/pthreads/pthreads_test.elf"


class PthreadsInDom0(unittest.TestCase):
    def assertPasses(self, cases, *lines):
        rc, out = sandbox("dom0", PTHREADS_TEST, "--cmdline", cases)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("[pthreads_test] skiff: exit status 0", out)
        for line in lines:
            self.assertIn(f"[pthreads_test] ok: {line}", out)
        return out

    def test_producers_consumer_barrier_once_and_keys(self):
        self.assertPasses(
            "buffer barrier once keys",
            "bounded buffer: 4 producers x 5000 items through 8 slots, each item arrives once "
            "and in its producer's order",
            "barrier: 8 threads x 20 rounds, none passes early, one serial thread a round",
            "pthread_once from 50 threads (its routine sleeps): run once, done for all on return",
            "10 threads' values: each its own, each destroyed once at thread exit with its value",
            "a destructor that sets its value again runs 4 times (4 rounds)",
            "a key made after a delete starts out NULL")

    def test_thousands_of_threads_and_their_stacks(self):
        out = self.assertPasses(
            "threads",
            "1000 threads alive at once, each joined with its result, pthread_self() == its id",
            "1000 threads with the default stack, 50 at a time, all joined",
            "1000 detached threads all ran and finished",
            "a thread with the default stack uses all but 32 KiB of it",
            "a 2 MiB stack from pthread_attr_setstacksize",
            "a thread uses 1900 KiB of its 2 MiB stack")
        self.assertIn("the default stack is 256 KiB", out)
        self.assertIn("a thread on a PTHREAD_STACK_MIN stack prints 0.333 and 0.333333", out)

    def test_timeouts_semaphores_and_sleeps(self):
        out = self.assertPasses(
            "timed semaphore sleep",
            "a condition variable's clock is CLOCK_REALTIME by default",
            "a timed wait (monotonic, 5 s) signalled after 20 ms returns 0 then",
            "a timed wait (realtime, 5 s) signalled after 20 ms returns 0",
            "pthread_mutex_timedlock on a held mutex: ETIMEDOUT after 50 ms",
            "pthread_mutex_timedlock gets the mutex when its holder lets go",
            "100 posts reach a waiting thread, none lost",
            "sem_trywait at 0: -1, errno EAGAIN",
            "errno is each thread's own: another thread's EAGAIN is not main's",
            "sem_timedwait with 2e9 ns: -1, errno EINVAL")
        for clock in ("CLOCK_REALTIME (the default)", "CLOCK_MONOTONIC"):
            self.assertRegex(out, rf"ok: pthread_cond_timedwait on {re.escape(clock)}: "
                                  r"ETIMEDOUT after \d+ ms \(50 to 500\), the mutex held again")
        self.assertRegex(out, r"ok: sem_timedwait at 0: -1, errno ETIMEDOUT, after \d+ ms")
        self.assertRegex(out, r"ok: a thread in nanosleep and usleep \(\d+ ms\) lets another "
                              r"run \d+ turns meanwhile")

    def test_mutex_kinds_rwlocks_and_spinlocks(self):
        self.assertPasses(
            "mutex rwlock spin",
            "a recursive mutex locks three times",
            "another thread's trylock of it is EBUSY",
            "still held after two of three unlocks",
            "free after three unlocks: another thread's trylock gets it",
            "an errorcheck mutex relocked is EDEADLK",
            "an errorcheck mutex unlocked by another thread is EPERM",
            "a static PTHREAD_MUTEX_INITIALIZER mutex: trylock, EBUSY, unlock",
            "a zero-filled mutex is a valid unlocked one",
            "10 threads x 200 increments that yield while holding the mutex: none overlap",
            "rwlock: 5 readers hold it at once; 3 writers each hold it alone",
            "trywrlock while read-held is EBUSY",
            "tryrdlock while write-held is EBUSY",
            "timedwrlock while read-held is ETIMEDOUT",
            "spinlock: 5 threads that yield while holding it never overlap, and none hangs")

    def test_bad_input_is_an_error_number(self):
        self.assertPasses(
            "errors",
            "pthread_join of main by main: EDEADLK",
            "pthread_join of a thread by itself: EDEADLK",
            "unlock of an unlocked errorcheck mutex: EPERM",
            "a stack below PTHREAD_STACK_MIN: EINVAL",
            "pthread_join of a detached thread: EINVAL",
            "pthread_detach twice: 0, then EINVAL",
            "a barrier for 0 threads: EINVAL",
            "a condition variable on an unknown clock: EINVAL",
            "a timed wait until -1 ns: EINVAL",
            "one scheduling policy: SCHED_OTHER; SCHED_FIFO is ENOTSUP")

    def test_pthread_exit_in_a_thread_and_in_main(self):
        out = self.assertPasses(
            "exit",
            "pthread_exit(42) from a nested call: joined with 42, pending cleanup handlers ran")
        last = out.index("the last thread ends 50 ms after main's pthread_exit")
        self.assertLess(out.index("main calls pthread_exit"), last)
        self.assertLess(last, out.index("skiff: exit status 0"))

    def test_relocking_a_default_mutex_is_a_crash_report(self):
        rc, out = sandbox("dom0", PTHREADS_TEST, "--cmdline", "relock")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL: guest pthreads_test crashed", out)
        self.assertIn("skiff: CRASH: task 'main' locks a pthread mutex it already holds", out)
        self.assertNotIn("relocking a default mutex went on", out)


class PthreadsAsDomU(unittest.TestCase):
    """One full-mode boot: threads as domUs, printing through the PV console ring, and main's
    pthread_exit ending a domU through the exit contract."""

    @classmethod
    def setUpClass(cls):
        cls.rc, cls.out = sandbox(
            "full",
            PTHREADS_TEST, "--name", "sync", "--cmdline", "buffer timed semaphore sleep",
            PTHREADS_TEST, "--name", "exit", "--cmdline", "exit",
            "--timeout", "120")

    def test_threads_in_a_domu(self):
        self.assertIn("sandbox: guest sync: exit status 0", self.out)
        self.assertNotIn("[sync] FAIL", self.out)
        self.assertIn("[sync] ok: bounded buffer: 4 producers x 5000 items through 8 slots, "
                      "each item arrives once and in its producer's order", self.out)
        self.assertRegex(self.out, r"\[sync\] ok: pthread_cond_timedwait on CLOCK_MONOTONIC: "
                                   r"ETIMEDOUT after \d+ ms")

    def test_pthread_exit_in_main_ends_a_domu_with_status_0(self):
        self.assertIn("[exit] the last thread ends 50 ms after main's pthread_exit", self.out)
        self.assertIn("sandbox: guest exit: exit status 0", self.out)


if __name__ == "__main__":
    unittest.main()
