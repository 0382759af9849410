"""The runtime core under real Xen: apps/hello and tests/guest/runtime, booted by the sandbox.

The cheap cases boot the test image as a PVH dom0 (about 1.5 s each); the PV console ring,
xenstore and the memory limits need a real domU, so those share one full-mode boot.
"""

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

BUILD = Path(os.environ.get("SKIFF_BUILD", Path(__file__).resolve().parents[2] / "build/guest"))
HELLO = BUILD / "apps/hello/hello.elf"
RUNTIME_TEST = BUILD / "tests/guest/runtime/runtime_test.elf"
FLOATS = BUILD / "tests/guest/floats/floats.elf"
FLOATS_SOURCE = Path(__file__).resolve().parents[2] / "tests/guest/floats/floats.c"


def dom0(cmdline):
    return sandbox("dom0", RUNTIME_TEST, "--cmdline", cmdline)


class RuntimeInDom0(unittest.TestCase):
    def assertPasses(self, cmdline):
        rc, out = dom0(cmdline)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("[runtime_test] skiff: exit status 0", out)
        return out

    def test_boot_and_memory_map(self):
        out = self.assertPasses("memory")
        self.assertIn("ok: the memory map shows at least 8 MiB of RAM", out)
        self.assertIn("ok: global constructors ran before main", out)

    def test_heap_stress(self):
        self.assertIn("kept their pattern", self.assertPasses("heap"))

    def test_allocation_larger_than_memory_fails_cleanly(self):
        out = self.assertPasses("oom")
        self.assertIn("ok: malloc of twice the RAM returns NULL", out)
        self.assertIn("ok: new (std::nothrow) of twice the RAM returns null", out)

    def test_libcxx_containers(self):
        self.assertIn("ok: shared_ptr and weak_ptr", self.assertPasses("containers"))

    def test_argv_with_quoting(self):
        out = self.assertPasses(r"""argv plain "two words" 'single "quoted"' back\ slash""")
        for n, arg in enumerate(["runtime_test", "argv", "plain", "two words",
                                 'single "quoted"', "back slash"]):
            self.assertIn(f"argv[{n}] = [{arg}]", out)

    def test_exit_status_reaches_the_sandbox(self):
        rc, out = dom0("exit 5")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL: guest runtime_test exited with status 5", out)

    def assertCrashReport(self, case, fault):
        rc, out = dom0(case)
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL: guest runtime_test crashed", out)
        self.assertIn("skiff: CRASH: page fault (#PF), vector 14", out)
        self.assertRegex(out, fault)
        self.assertRegex(out, r"skiff: rax [0-9a-f]{16} rbx")
        self.assertRegex(out, r"skiff: backtrace: 0x[0-9a-f]+ 0x[0-9a-f]+")
        return out

    def test_write_to_text_crashes_with_a_report(self):
        self.assertCrashReport("write-text", r"skiff: write to read-only memory at 0x[0-9a-f]+ \(text\)")

    def test_jump_into_data_crashes_with_a_report(self):
        self.assertCrashReport("jump-to-data", r"skiff: instruction fetch from no-execute "
                                               r"memory at 0x[0-9a-f]+ \(data or bss\)")

    def test_null_dereference_crashes_with_a_report(self):
        self.assertCrashReport("null", r"skiff: NULL pointer dereference at 0x0 \(the NULL page\)")

    def test_value_of_an_error_crashes_with_its_message(self):
        rc, out = dom0("value-of-error")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL: guest runtime_test crashed", out)
        self.assertIn("skiff: CRASH: value() of a failed Result: no such thing as '/data/x'", out)
        self.assertIn("skiff: in task 'main'", out)
        self.assertNotIn("value 0", out)

    def test_deep_recursion_in_main(self):
        # 10 MiB: more than the default 8 MiB, less than the 12 MiB runtime_test links with.
        out = self.assertPasses("recurse 10240")
        self.assertIn("ok: deep recursion in main works, its stack mapped as it grows", out)
        out = self.assertPasses("skiff.main-stack=24M recurse 16384")
        self.assertIn("ok: deep recursion in main works, its stack mapped as it grows", out)

    def test_main_stack_overflow_is_a_crash_report_naming_main(self):
        out = self.assertCrashReport("skiff.main-stack=256K recurse 1024",
                                     r"skiff: stack overflow at 0x[0-9a-f]+ \(the guard below "
                                     r"the stack of task 'main'\)")
        self.assertIn("skiff: in task 'main'", out)

    def test_main_stack_out_of_memory_is_a_crash_report(self):
        out = self.assertCrashReport("skiff.main-stack=1G recurse 1000000",
                                     r"skiff: write to unmapped memory at 0x[0-9a-f]+ \(the "
                                     r"stack of task 'main'\)")
        self.assertRegex(out, r"skiff: out of memory to grow a stack at 0x[0-9a-f]+\n")

    def test_bad_main_stack_size_is_a_clear_error(self):
        rc, out = dom0("skiff.main-stack=lots recurse 1")
        self.assertEqual(rc, 1, out)
        self.assertIn("skiff: bad runtime option 'skiff.main-stack=lots': the size of main's "
                      "stack is a number of bytes with K, M or G, from 8K to 1G", out)
        self.assertIn("FAIL: guest runtime_test exited with status 2", out)

    def test_bad_quoting_is_a_clear_error(self):
        rc, out = dom0('argv "unterminated')
        self.assertEqual(rc, 1, out)
        self.assertIn('skiff: bad command line: unterminated " on the command line', out)

    def test_sandbox_refuses_what_xen_would_truncate(self):
        rc, out = dom0("argv " + "x" * 1100)
        self.assertEqual(rc, 2, out)
        self.assertIn("the command line is 1105 bytes; Xen truncates a dom0's at 1023", out)


    def test_too_little_memory_is_a_clear_error(self):
        rc, out = sandbox("dom0", RUNTIME_TEST, "--memory", "1", "--cmdline", "memory")
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"skiff: too little memory: \d+ KiB of RAM leaves \d+ KiB free "
                              r"after boot; Skiff needs at least 512 KiB free")
        self.assertIn("FAIL: guest runtime_test exited with status 2", out)


class RuntimeAsDomU(unittest.TestCase):
    """One full-mode boot: hello on the PV console, the memory limits, and the FPU state a
    domU's main starts with."""

    @classmethod
    def setUpClass(cls):
        cls.rc, cls.out = sandbox(
            "full", HELLO, "--cmdline", 'first "second word"', "--memory", "16",
            HELLO, "--name", "hello-2m", "--memory", "2",
            RUNTIME_TEST, "--name", "heap", "--cmdline", "heap",
            RUNTIME_TEST, "--name", "fpu", "--cmdline", "fpu",
            FLOATS, "--name", "floats",
            RUNTIME_TEST, "--name", "long", "--cmdline", "argv " + "x" * 5000)

    def test_hello_prints_on_the_pv_console(self):
        for line in ["Hello from Skiff", 'argv[0] = "hello"', 'argv[1] = "first"',
                     'argv[2] = "second word"', "pi is about 3.141593",
                     "sorted: guest, pvh, skiff, unikernel, xen",
                     'length of "unikernel": 9', "first word of 6 letters or more: unikernel",
                     "skiff: exit status 0"]:
            self.assertIn(f"[hello] {line}", self.out)
        self.assertIn("sandbox: guest hello: exit status 0", self.out)

    def test_hello_runs_in_2_mib(self):
        self.assertIn("sandbox: guest hello-2m: exit status 0", self.out)

    def test_overlong_command_line_is_a_clear_error(self):
        self.assertIn("[long] skiff: the command line is 5005 bytes, longer than the limit "
                      "of 4095", self.out)
        self.assertIn("FAIL: guest long exited with status 2", self.out)

    def test_heap_in_a_domu(self):
        self.assertIn("sandbox: guest heap: exit status 0", self.out)

    def test_fpu_state_at_main_and_in_tasks(self):
        self.assertIn("sandbox: guest fpu: exit status 0", self.out)
        self.assertIn("[fpu] ok: main and a task start with x87 control word 0x37f and MXCSR "
                      "0x1f80", self.out)

    def test_doubles_print_as_on_the_host(self):
        with tempfile.TemporaryDirectory() as tmp:
            program = Path(tmp) / "floats"
            subprocess.run(["cc", "-O2", "-o", program, FLOATS_SOURCE, "-lm"], check=True)
            host = subprocess.run([program], check=True, capture_output=True, text=True).stdout
        guest = [line[len("[floats] "):] for line in self.out.splitlines()
                 if line.startswith("[floats] ") and "skiff: exit status" not in line]
        self.assertEqual(guest, host.splitlines())
        self.assertIn("sandbox: guest floats: exit status 0", self.out)



if __name__ == "__main__":
    unittest.main()
