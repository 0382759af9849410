"""Debian C programs, unmodified, as outside projects that use Skiff as a subproject.

Each folder of tests/ported/ is a meson project set up exactly as the README's recipe says, in
build/ported/NAME, with the program's source from its Debian source package
(scripts/lib/fetch-source, cached). The program's own tests run in the guest, booted as a PVH
dom0, and their results are checked here against the expected outputs its source ships.
"""

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.system.test_sandbox import sandbox

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "ported"
XEN_LINE = re.compile(r"^\((XEN|d\d+)\)")
LOG_LINE = re.compile(r"^ *\d+\.\d\d (.*)$")


def run(command, cwd, log):
    proc = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    with open(log, "a") as f:
        f.write(f"$ {' '.join(map(str, command))}\n{proc.stdout}")
    if proc.returncode != 0:
        raise AssertionError(f"{command[0]} failed:\n" + "\n".join(proc.stdout.splitlines()[-20:]))
    return proc.stdout.strip()


def build(name):
    """Configures (when new or stale) and builds tests/ported/NAME; returns its build folder."""
    project = REPO / "tests" / "ported" / name
    out = BUILD / name
    out.parent.mkdir(parents=True, exist_ok=True)
    log = BUILD / f"{name}.log"
    log.write_text("")
    src = run(["subprojects/skiff/scripts/lib/fetch-source", name], project, log)
    newlib = run(["subprojects/skiff/scripts/lib/build-newlib"], project, log)
    stamp = out / ".skiff-inputs"
    if not (out / "build.ninja").exists() or not stamp.exists() or \
            stamp.read_text() != f"{newlib}\n{src}\n":
        subprocess.run(["rm", "-rf", out], check=True)
        # The README's recipe, from the project's own folder.
        setup = run(["meson", "setup", out, "--cross-file",
                     "subprojects/skiff/scripts/guest-x86_64.ini", f"-Dskiff:newlib={newlib}",
                     f"-Dsrc={src}"], project, log)
        if "WARNING" in setup:   # the recipe's options leave Skiff nothing to warn about
            raise AssertionError("meson setup warned:\n" + setup)
        stamp.write_text(f"{newlib}\n{src}\n")
    run(["ninja", "-C", out], project, log)
    return out, Path(src)


def boot(image, cmdline, memory=64):
    """Boots |image| as dom0; returns (exit status, the guest's own lines, all output).

    The guest's lines are read from the console log, so empty lines are kept; the runtime's
    own lines ("skiff: ...") are left out.
    """
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "console.log"
        rc, out = sandbox("dom0", image, "--cmdline", cmdline, "--memory", str(memory),
                          "--log", log)
        lines, started = [], False
        for raw in log.read_text(errors="replace").splitlines():
            m = LOG_LINE.match(raw)
            if not m:
                continue
            line = m.group(1)
            if not started:
                started = "(XEN)" in line
            elif not XEN_LINE.match(line) and not line.startswith("skiff: "):
                lines.append(line)
    return rc, lines, out


class OutsideProject(unittest.TestCase):
    """The README's recipe without its default_options: meson's defaults (-O0, -fPIC)."""

    def test_skiff_warns_and_builds_only_its_runtime_optimised(self):
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / "app"
            (project / "subprojects").mkdir(parents=True)
            (project / "subprojects/skiff").symlink_to(REPO)
            (project / "app.c").write_text("int main(void) { return 0; }\n")
            (project / "meson.build").write_text("""project('app', 'c')
skiff = subproject('skiff')
app_lib = static_library('app', 'app.c', dependencies: skiff.get_variable('skiff_dep'),
  c_args: skiff.get_variable('skiff_c_args'))
custom_target('app.elf', input: [app_lib, skiff.get_variable('skiff_runtime')],
  output: 'app.elf', depends: skiff.get_variable('guest_lds'), build_by_default: true,
  command: skiff.get_variable('skiff_link') + ['app', '@OUTPUT@', '@INPUT0@', '--', '@INPUT1@'])
""")
            log = Path(tmp) / "log"
            newlib = run(["subprojects/skiff/scripts/lib/build-newlib"], project, log)
            out = run(["meson", "setup", "build", "--cross-file",
                       "subprojects/skiff/scripts/guest-x86_64.ini",
                       f"-Dskiff:newlib={newlib}"], project, log)
            self.assertRegex(out, r"WARNING: Skiff: the parent project's options make the app "
                                  r"slow \(buildtype=debug compiles it without optimisation, "
                                  r"b_staticpic=true compiles its static libraries with -fPIC\)")
            self.assertIn("'buildtype=debugoptimized', 'b_staticpic=false', 'b_pie=false'", out)
            # The runtime, its linker script, and skiff_blk, built only for an app that links it.
            self.assertRegex(out, r"skiff\| Build targets in project: 3\n")
            ninja = (project / "build/build.ninja").read_text()
            runtime = re.search(r"^build subprojects/skiff/runtime/libskiff\.a\.p/cmdline\.cc\.o:"
                                r".*?\n ARGS = (.*?)\n", ninja, re.M | re.S).group(1).split()
            self.assertIn("-O2", runtime)
            self.assertNotIn("-O0", runtime)
            self.assertNotIn("-fPIC", runtime)
            app = re.search(r"^build libapp\.a\.p/app\.c\.o:.*?\n ARGS = (.*?)\n", ninja,
                            re.M | re.S).group(1).split()
            self.assertIn("-O0", app)   # what the warning is about


class CJson(unittest.TestCase):
    """cJSON's own Unity test programs (tests/*.c), all in one image (tests/ported/cjson)."""

    @classmethod
    def setUpClass(cls):
        out, cls.src = build("cjson")
        cls.rc, cls.lines, cls.out = boot(out / "cjson_tests.elf", "")

    def test_every_program_passes(self):
        self.assertEqual(self.rc, 0, self.out)
        self.assertIn("== 21 programs, 0 failed", self.lines, self.out)

    def test_each_program_of_cmakelists_passes(self):
        # tests/CMakeLists.txt names the test programs; the image must run them all.
        text = (self.src / "tests/CMakeLists.txt").read_text()
        names = []
        for m in re.finditer(r"set\s*\(\s*(unity_tests|cjson_utils_tests)\s+([^)]*)\)", text):
            names += m.group(2).split()
        self.assertEqual(len(names), 21, names)
        for name in names:
            self.assertIn(f"== {name}: passed", self.lines, self.out)
        summaries = [line for line in self.lines if re.match(r"^\d+ Tests \d+ Failures", line)]
        self.assertEqual(len(summaries), 21, self.out)
        for line in summaries:
            self.assertRegex(line, r"^\d+ Tests 0 Failures \d+ Ignored", self.out)

    def test_input_files_are_read_and_compared(self):
        # parse_examples reads inputs/testN and compares its printout with inputs/testN.expected.
        for n in [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]:
            self.assertRegex(self.out, rf"parse_examples\.c:\d+:file_test{n}_should_be_parsed_"
                                       rf"and_printed:PASS")
        self.assertRegex(self.out, r"parse_examples\.c:\d+:file_test6_should_not_be_parsed:PASS")


class Mawk(unittest.TestCase):
    """mawk's test/mawktest and test/fpe_test cases, one boot each (tests/ported/mawk)."""

    @classmethod
    def setUpClass(cls):
        out, cls.src = build("mawk")
        cls.image = out / "mawk.elf"

    def mawk(self, cmdline):
        rc, lines, out = boot(self.image, cmdline)
        self.assertEqual(rc, 0, out)
        return lines

    def expected(self, name):
        return (self.src / "test" / name).read_text().splitlines()

    def test_version(self):
        lines = self.mawk("-W version")
        self.assertIn("mawk 1.3.4 20200120", lines)

    def test_input_and_field_splitting(self):
        self.assertEqual(self.mawk("-f wc.awk mawktest.dat"),
                         self.expected("wc-awk.out"))
        self.assertEqual(self.mawk("-f null-rs.awk null-rs.dat"),
                         self.expected("null-rs.out"))

    def test_field_separators_that_mean_the_same_split_the_same(self):
        # mawktest's cases 2 to 7 and 9.
        for a, b in [("(a?)*b", "a*b"), ("(a?)+b", "a*b"), ("[^^]", "(.)"),
                     ("[^]]", '[[#a-zA-Z0-9/*!=<>+,;.&_%(){}" -]'), ("[a[]", "[[a]"),
                     ("(])", "[]]"), ("(^)?)", ")")]:
            first = self.mawk(f"-F '{a}' -f wc.awk mawktest.dat")
            self.assertEqual(len(first), 1)
            self.assertEqual(first, self.mawk(f"-F '{b}' -f wc.awk mawktest.dat"), (a, b))

    def test_regular_expression_matching(self):
        lines = []
        for n in range(8):
            lines += self.mawk(f"-f reg{n}.awk mawktest.dat")
        self.assertEqual(lines, self.expected("reg-awk.out"))
        self.assertEqual(self.mawk("'/^[^^]*$/' mawktest.dat"),
                         self.expected("mawktest.dat"))

    def test_arrays_and_flow_of_control(self):
        self.assertEqual(self.mawk("-f wfrq0.awk mawktest.dat"),
                         self.expected("wfrq-awk.out"))

    def test_nextfile(self):
        self.assertEqual(self.mawk("-f nextfile.awk full-awk.dat mawktest.dat"),
                         self.expected("nextfile.out"))

    def test_function_calls_and_general_stress(self):
        self.assertEqual(self.mawk("-f ../examples/decl.awk mawktest.dat"),
                         self.expected("decl-awk.out"))

    def test_floating_point_exceptions_are_ignored(self):
        # fpe_test: all three exit 0 (IEEE 754, no traps), and log(-8) prints a NaN.
        self.assertEqual(self.mawk("-f fpetest1.awk"), ["inf"])
        self.assertEqual(self.mawk("-f fpetest2.awk"), ["loop terminated"])
        self.assertRegex(self.mawk("-f fpetest3.awk")[0], r"^-?nan$")

    def test_environ(self):
        lines = self.mawk("skiff.env=GREETING=hello skiff.env=EMPTY= 'BEGIN { "
                          "print ENVIRON[\"GREETING\"] \":\" length(ENVIRON[\"EMPTY\"]) }'")
        self.assertEqual(lines, ["hello:0"])

    def test_recursion_up_to_mawks_own_limit(self):
        # Each awk call nests execute() in C; mawk's evaluation stack (1,024 cells) ends the
        # recursion with its own message, as on Linux.
        f = "function f(n) { return n ? 1 + f(n - 1) : 0 }"
        self.assertEqual(self.mawk(f"'{f} BEGIN {{ print f(400) }}'"), ["400"])
        rc, lines, out = boot(self.image, f"'{f} BEGIN {{ print f(5000) }}'")
        self.assertIn("sandbox: guest mawk: exit status 2", out)
        self.assertEqual(lines, ["mawk: program limit exceeded: eval stack size=1024"])

    def test_writes_and_reads_back_a_file(self):
        lines = self.mawk("'BEGIN { for (i = 1; i <= 3; i++) print i / 4 > \"/tmp/out\"; "
                          "close(\"/tmp/out\"); "
                          "while ((getline x < \"/tmp/out\") > 0) s = s x \" \"; "
                          "print s }'")
        self.assertEqual(lines, ["0.25 0.5 0.75 "])


class MawkStdin(unittest.TestCase):
    """mawktest's cases that read stdin (`echo TEXT | mawk ...`), as domUs in one full-mode
    boot: dom0 types TEXT on each guest's console, then Ctrl-D."""

    CASES = {   # name: (command line, what is typed)
        "nf-plus": ("-F 'a*+' '{print NF}'", "baaab"),
        "nf-star": ("-F 'a*' '{print NF}'", "baaab"),
        "match-plus": ("'/a*+/'", "aaa"),
        "noloop1": ("-f noloop.awk", "''Italics with an apostrophe'' embedded''"),
        "noloop2": ("-f noloop.awk", "''Italics with an apostrophe' embedded''"),
    }

    @classmethod
    def setUpClass(cls):
        out, _ = build("mawk")
        args, typing = [], []
        for name, (cmdline, text) in cls.CASES.items():
            args += [out / "mawk.elf", "--name", name, "--memory", "32", "--cmdline", cmdline]
            quoted = text.replace("'", "'\\''")
            typing.append(f"tty=$(xenstore-read /local/domain/$(xl domid {name})/console/tty) "
                          f"&& printf '%s\\r' '{quoted}' >$tty")
        typing.append("sleep 1")
        for name in cls.CASES:
            typing.append(f"printf '\\004' >$(xenstore-read /local/domain/$(xl domid {name})"
                          f"/console/tty)")
        cls.rc, cls.out = sandbox("full", *args, "--cmd", " && ".join(typing),
                                  "--timeout", "120")

    def printed(self, name):
        """What guest |name| printed after the echo of the typed line."""
        lines = [line[len(name) + 3:] for line in self.out.splitlines()
                 if line.startswith(f"[{name}] ") and "skiff: " not in line]
        self.assertEqual(lines[0], self.CASES[name][1], self.out)   # the console's echo
        return lines[1:]

    def test_every_guest_exits_0(self):
        self.assertEqual(self.rc, 0, self.out)
        for name in self.CASES:
            self.assertIn(f"sandbox: guest {name}: exit status 0", self.out)

    def test_field_splitting_of_stdin(self):
        # case 10: -F 'a*+' splits as -F 'a*'.
        self.assertEqual(self.printed("nf-plus"), ["2"])
        self.assertEqual(self.printed("nf-star"), ["2"])

    def test_matching_stdin(self):
        # Regular expression case 5: /a*+/ matches as /a*/ does, and prints the line.
        self.assertEqual(self.printed("match-plus"), ["aaa"])

    def test_no_endless_loop(self):
        # noloop1 and noloop2 end (they print nothing).
        self.assertEqual(self.printed("noloop1"), [])
        self.assertEqual(self.printed("noloop2"), [])

if __name__ == "__main__":
    unittest.main()
