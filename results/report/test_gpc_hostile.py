"""Hostile input and faults thrown at `compare` and `report` (issue 15, items 2, 5, 10, 17).

Each case damages one file of a synthetic matrix (gpc_synth.py) in its own temporary
directory and checks the tool ends in exit 2 naming the file and the field, never in a
traceback or an "OK" verdict; output paths that cannot be written are refused before the
work; a failing or interrupted report leaves no partial file. Device nodes and FIFOs are made
inside the temporary directory, never under /dev.
"""
import contextlib
import errno
import io
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gpc_compare  # noqa: E402
import gpc_output as O  # noqa: E402
import gpc_report  # noqa: E402
import gpc_synth as G  # noqa: E402

PYTHON = "/usr/bin/python3"
SPECS = [G.CellSpec(G.cache_params("busy", "alone", "0"), reps=5),
         G.CellSpec(G.cache_params("block", "alone", "0"), reps=5)]
FIRST = f"{SPECS[0].slug}.rep0.json"
STOP = {signal.SIGINT, signal.SIGTERM}


def call(main, argv):
    """(exit code, stdout, stderr) of an in-process main()."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse
            code = e.code
    return code, out.getvalue(), err.getvalue()


def leftovers(directory):
    """Temporaries of gpc_output anywhere below directory."""
    return [os.path.join(d, f) for d, _, files in os.walk(directory) for f in files if f.endswith(".tmp")]


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pristine = tempfile.TemporaryDirectory(prefix="gpc-hostile-")
        G.write_matrix(os.path.join(cls.pristine.name, "m"), SPECS)

    @classmethod
    def tearDownClass(cls):
        cls.pristine.cleanup()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gpc-hostile-")
        self.base = os.path.join(self.tmp.name, "base")
        self.new = os.path.join(self.tmp.name, "new")
        for d in (self.base, self.new):
            shutil.copytree(os.path.join(self.pristine.name, "m"), d)

    def tearDown(self):
        self.tmp.cleanup()

    # helpers ---------------------------------------------------------------------------
    def run_file(self, name=FIRST):
        return os.path.join(self.new, "runs", name)

    def doc(self):
        with open(self.run_file(), encoding="utf-8") as f:
            return json.load(f)

    def write_doc(self, doc):
        with open(self.run_file(), "w", encoding="utf-8") as f:
            json.dump(doc, f)

    def set_field(self, key, value):
        doc = self.doc()
        doc["benchmarks"][0][key] = value
        self.write_doc(doc)

    def write_text(self, text, path=None):
        with open(path or self.run_file(), "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())

    def assert_unusable(self, *names, argv=None):
        """compare exits 2, names every string in `names`, prints no verdict or traceback."""
        code, out, err = call(gpc_compare.main, argv or [self.base, self.new])
        self.assertEqual(code, 2, err)
        self.assertNotIn("OK", out)
        self.assertNotIn("Traceback", err)
        for n in names:
            self.assertIn(n, err)
        return err

    # item 17: result files that are not what they claim --------------------------------
    def test_binary_garbage(self):
        self.write_text(os.urandom(64) + b"\xff\xfe")
        self.assert_unusable(FIRST, "not UTF-8")

    def test_truncated_json(self):
        with open(self.run_file(), "rb") as f:
            data = f.read()
        self.write_text(data[: len(data) // 2])
        self.assert_unusable(FIRST, "truncated")

    def test_empty_file(self):
        self.write_text(b"")
        self.assert_unusable(FIRST, "invalid or truncated JSON")

    def test_cpu_time_is_an_array(self):
        self.set_field("cpu_time", [1])
        self.assert_unusable(FIRST, "benchmarks[0].cpu_time", "an array")

    def test_nan_counter(self):
        self.write_text(json.dumps(self.doc()).replace('"p50_ns": ', '"p50_ns": NaN, "x": ', 1))
        self.assert_unusable(FIRST, "benchmarks[0].p50_ns", "finite")

    def test_infinite_real_time(self):
        self.write_text(json.dumps(self.doc()).replace('"real_time": ', '"real_time": Infinity, "x": ', 1))
        self.assert_unusable(FIRST, "real_time", "finite")

    def test_negative_infinity_deep_in_the_context(self):
        doc = self.doc()
        doc["context"]["run"]["rate"] = float("-inf")
        self.write_doc(doc)  # json.dump writes -Infinity
        self.assert_unusable(FIRST, "context.run.rate")

    def test_null_counter(self):
        self.set_field("p99_ns", None)
        self.assert_unusable(FIRST, "benchmarks[0].p99_ns", "null")

    def test_string_counter(self):
        self.set_field("ops_per_s", "fast")
        self.assert_unusable(FIRST, "benchmarks[0].ops_per_s", "string")

    def test_negative_latency(self):
        self.set_field("p50_ns", -5)
        self.assert_unusable(FIRST, "benchmarks[0].p50_ns", ">= 0")

    def test_boolean_violations(self):
        self.set_field("violations", True)
        self.assert_unusable(FIRST, "benchmarks[0].violations", "boolean")

    def test_every_counter_missing(self):
        doc = self.doc()
        b = doc["benchmarks"][0]
        doc["benchmarks"][0] = {k: b[k] for k in ("name", "run_type", "real_time", "cpu_time", "time_unit")}
        self.write_doc(doc)
        self.assert_unusable(FIRST, "violations", "p50_ns")

    def test_no_benchmarks_array(self):
        self.write_text('{"context": {}, "benchmarks": {"a": 1}}')
        self.assert_unusable(FIRST, "benchmarks")

    def test_top_level_array(self):
        self.write_text("[1, 2, 3]")
        self.assert_unusable(FIRST, "benchmarks")

    def test_entry_is_not_an_object(self):
        self.write_text('{"benchmarks": [1]}')
        self.assert_unusable(FIRST, "benchmarks[0]", "JSON object")

    def test_integer_beyond_64_bits(self):
        self.write_text(json.dumps(self.doc()).replace('"iterations": ', '"iterations": 1' + "0" * 30 + ', "x": ', 1))
        self.assert_unusable(FIRST, "64 bits")

    def test_integer_with_5000_digits(self):
        self.write_text(json.dumps(self.doc()).replace('"iterations": ', '"iterations": 1' + "0" * 5000 + ', "x": ', 1))
        self.assert_unusable(FIRST)

    def test_nesting_too_deep(self):
        self.write_text("[" * 200000 + "]" * 200000)
        self.assert_unusable(FIRST)

    def test_bad_repetition_index(self):
        for value in (-1, "0", 2.5, 10 ** 12):
            with self.subTest(value=value):
                self.set_field("repetition_index", value)
                self.assert_unusable(FIRST, "repetition_index")

    def test_unknown_time_unit(self):
        self.set_field("time_unit", "fortnights")
        self.assert_unusable(FIRST, "time_unit")

    def test_garbage_histogram_bucket(self):
        doc = self.doc()
        key = next(iter(doc["context"]["gpcbench_histograms"]))
        doc["context"]["gpcbench_histograms"][key]["latency"]["buckets"][0] = ["x", 1]
        self.write_doc(doc)
        self.assert_unusable(FIRST, "buckets[0]")

    def test_context_is_a_string(self):
        doc = self.doc()
        doc["context"] = "hello"
        self.write_doc(doc)
        self.assert_unusable(FIRST, "context")

    def test_garbage_failure_record_is_not_dropped(self):
        os.makedirs(os.path.join(self.new, "failures"))
        path = os.path.join(self.new, "failures", "x.rep0.json")
        self.write_text(b"\x00\x01garbage", path)
        self.assert_unusable("failures/x.rep0.json")

    def test_failure_record_without_status(self):
        os.makedirs(os.path.join(self.new, "failures"))
        self.write_text('{"cell": "cache/x"}', os.path.join(self.new, "failures", "x.json"))
        self.assert_unusable("status")

    def test_matrix_json_is_an_array(self):
        self.write_text("[]", os.path.join(self.new, "matrix.json"))
        self.assert_unusable("matrix.json")

    def test_environment_kernel_is_a_string(self):
        self.write_text('{"kernel": "6.1"}', os.path.join(self.new, "environment.json"))
        self.assert_unusable("environment.json", "kernel")

    def test_fifo_in_runs_does_not_hang(self):
        os.unlink(self.run_file())
        os.mkfifo(self.run_file())
        self.assert_unusable(FIRST, "not a regular file")

    def test_runaway_file_size(self):
        with mock.patch.object(gpc_compare.R.Schema, "MAX_FILE_BYTES", 1000):
            self.assert_unusable("bytes, more than the limit of 1000")

    def test_directory_in_runs(self):
        os.unlink(self.run_file())
        os.mkdir(self.run_file())
        self.assert_unusable(FIRST, "not a regular file")

    def test_bad_threshold_and_alpha(self):
        for flag, value in (("--threshold", "nan"), ("--threshold", "-1"), ("--alpha", "inf"), ("--alpha", "0")):
            with self.subTest(flag=flag, value=value):
                with contextlib.redirect_stderr(io.StringIO()):
                    code, _, _ = call(gpc_compare.main, [self.base, self.new, flag, value])
                self.assertEqual(code, 2)

    def test_report_refuses_garbage_too(self):
        self.write_text(b"\xff\xd8\xff\xe0 a jpeg?")
        code, _, err = call(gpc_report.main, [self.new])
        self.assertEqual(code, 2)
        self.assertIn(FIRST, err)
        self.assertFalse(os.path.exists(os.path.join(self.new, "report.md")))

    # item 5: interrupted repetitions ----------------------------------------------------
    def test_interrupted_repetitions_are_skipped_and_listed(self):
        doc = self.doc()
        doc["benchmarks"][0]["label"] = "interrupted"
        for key in ("p50_ns", "p99_ns", "real_time", "cpu_time", "cpu_ns_per_op"):
            doc["benchmarks"][0][key] = 1e12  # a partial run's nonsense must not count
        self.write_doc(doc)
        # Only 4 NEW repetitions of that cell remain: too few to test it, not a regression.
        code, out, err = call(gpc_compare.main, [self.base, self.new, "--alpha", "0.05"])
        self.assertEqual(code, 0, err + out)
        self.assertIn('Skipped: 1 repetition(s) labelled "interrupted"', out)
        self.assertIn(f"`{SPECS[0].name}` | 0 |", out)

    def test_interrupted_repetition_counts_as_a_sample_nowhere(self):
        doc = self.doc()
        doc["benchmarks"][0]["label"] = "interrupted"
        self.write_doc(doc)
        code, out, _ = call(gpc_compare.main, [self.base, self.new])
        self.assertIn("9 samples", out)  # NEW: 10 files, one skipped

    def test_report_lists_interrupted_repetitions(self):
        doc = self.doc()
        doc["benchmarks"][0]["label"] = "interrupted"
        self.write_doc(doc)
        code, _, err = call(gpc_report.main, [self.new])
        self.assertEqual(code, 0, err)
        with open(os.path.join(self.new, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn('1 repetition(s) are labelled "interrupted"', md)
        self.assertIn(f"`{SPECS[0].name}` repetition 0", md)

    def test_only_interrupted_repetitions_is_unusable(self):
        for name in os.listdir(os.path.join(self.new, "runs")):
            path = self.run_file(name)
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            doc["benchmarks"][0]["label"] = "interrupted"
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc, f)
        self.assert_unusable("interrupted")

    # item 17: --junit targets -----------------------------------------------------------
    def assert_junit_refused(self, target, *names):
        err = self.assert_unusable(*names, argv=[self.base, self.new, "--junit", target])
        self.assertEqual(leftovers(self.tmp.name), [])
        return err

    def test_junit_to_a_directory(self):
        self.assert_junit_refused(self.tmp.name, "is a directory")
        self.assertTrue(os.path.isdir(self.tmp.name))

    def test_junit_empty_path(self):
        self.assert_junit_refused("", "empty path")

    def test_junit_in_a_missing_directory(self):
        self.assert_junit_refused(os.path.join(self.tmp.name, "nope", "j.xml"), "does not exist")

    def test_junit_to_a_fifo_or_symlink(self):
        fifo, link = os.path.join(self.tmp.name, "fifo"), os.path.join(self.tmp.name, "link")
        os.mkfifo(fifo)
        os.symlink(os.path.join(self.tmp.name, "elsewhere.xml"), link)
        self.assert_junit_refused(fifo, "a FIFO")
        self.assert_junit_refused(link, "a symbolic link")
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        self.assertTrue(os.path.islink(link))

    def test_junit_to_a_device_node_of_our_own(self):
        node = os.path.join(self.tmp.name, "full")
        try:
            os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 7))
        except OSError as e:
            self.skipTest(f"cannot mknod in a temporary directory ({e.strerror})")
        self.assert_junit_refused(node, "a device")
        self.assertTrue(stat.S_ISCHR(os.lstat(node).st_mode))  # still a device, not a file

    @unittest.skipIf(os.geteuid() == 0, "root writes into a mode 0500 directory")
    def test_junit_in_an_unwritable_directory(self):
        ro = os.path.join(self.tmp.name, "ro")
        os.mkdir(ro, 0o500)
        self.assert_junit_refused(os.path.join(ro, "j.xml"), "permission denied")

    def test_junit_write_failure_leaves_nothing(self):
        target = os.path.join(self.tmp.name, "j.xml")
        with mock.patch.object(O.os, "fsync", side_effect=OSError(errno.ENOSPC, "No space left on device")):
            err = self.assert_unusable("ENOSPC", argv=[self.base, self.new, "--junit", target])
        self.assertIn("j.xml", err)
        self.assertFalse(os.path.exists(target))
        self.assertEqual(leftovers(self.tmp.name), [])

    def test_junit_replaces_a_regular_file(self):
        target = os.path.join(self.tmp.name, "j.xml")
        self.write_text("old", target)
        code, _, err = call(gpc_compare.main, [self.base, self.new, "--junit", target])
        self.assertEqual(code, 0, err)
        with open(target, encoding="utf-8") as f:
            self.assertIn("<testsuite", f.read())

    # item 2: report outputs ------------------------------------------------------------
    def report_files(self):
        files = {}
        for d, _, names in os.walk(self.new):
            for n in names:
                if n.startswith("report") or n.endswith((".png", ".tmp")) or d.endswith("report-files"):
                    p = os.path.join(d, n)
                    with open(p, "rb") as f:
                        files[os.path.relpath(p, self.new)] = f.read()
        return files

    def test_report_refuses_to_replace_non_regular_files(self):
        for kind in ("dir", "fifo", "symlink"):
            with self.subTest(kind=kind):
                target = os.path.join(self.new, "report.html")
                if kind == "dir":
                    os.mkdir(target)
                elif kind == "fifo":
                    os.mkfifo(target)
                else:
                    os.symlink("/etc/hostname", target)
                code, _, err = call(gpc_report.main, [self.new])
                self.assertEqual(code, 2, err)
                self.assertIn("refusing to replace it", err)
                self.assertFalse(os.path.exists(os.path.join(self.new, "report.md")))
                (os.rmdir if kind == "dir" else os.unlink)(target)

    def test_report_files_dir_that_is_a_file(self):
        self.write_text("x", os.path.join(self.new, "report-files"))
        code, _, err = call(gpc_report.main, [self.new])
        self.assertEqual(code, 2)
        self.assertIn("not a directory", err)

    def test_report_write_failure_keeps_the_previous_report_and_no_temporary(self):
        self.assertEqual(call(gpc_report.main, [self.new])[0], 0)
        before = self.report_files()
        self.assertIn("report.md", before)
        calls = {"n": 0}
        real_fsync = os.fsync

        def failing_fsync(fd):  # the third file written (a plot or report.md) hits a full disk
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_fsync(fd)

        with mock.patch.object(O.os, "fsync", side_effect=failing_fsync):
            code, _, err = call(gpc_report.main, [self.new])
        self.assertEqual(code, 2)
        self.assertIn("ENOSPC", err)
        self.assertEqual(self.report_files(), before)  # byte for byte, and no *.tmp

    def test_report_write_failure_on_a_first_report_leaves_nothing(self):
        with mock.patch.object(O.os, "fsync", side_effect=OSError(errno.ENOSPC, "No space left on device")):
            code, _, err = call(gpc_report.main, [self.new])
        self.assertEqual(code, 2, err)
        self.assertEqual(self.report_files(), {})
        self.assertFalse(os.path.exists(os.path.join(self.new, "report-files")))

    def test_report_file_size_limit_in_a_real_process(self):
        """A real write error (RLIMIT_FSIZE makes write() fail with EFBIG, as a full disk
        would with ENOSPC): exit 2, no partial PNG, report.md or temporary."""
        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))
        r = subprocess.run([PYTHON, os.path.join(HERE, "gpc_report.py"), self.new], capture_output=True,
                           text=True, preexec_fn=limit, timeout=300)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertIn("EFBIG", r.stderr)
        self.assertEqual(self.report_files(), {})


class Signals(unittest.TestCase):
    """Item 10: a stop signal ends report/compare in 128+N, no traceback, nothing left."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gpc-hostile-")
        self.dir = os.path.join(self.tmp.name, "m")
        G.write_matrix(self.dir, SPECS)

    def tearDown(self):
        self.tmp.cleanup()

    def stop(self, script, args, sig):
        # Started as gpcbench starts it (python_tool.cpp): stop signals blocked until the script's
        # handlers are in place, so a loaded machine's slow interpreter start cannot race the signal.
        p = subprocess.Popen([PYTHON, os.path.join(HERE, script), *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, STOP))
        time.sleep(0.3)  # mid-import or mid-work: both must end the same way
        p.send_signal(sig)
        out, err = p.communicate(timeout=120)
        return p.returncode, out, err

    def test_report_sigint_and_sigterm(self):
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            with self.subTest(sig=sig):
                rc, _, err = self.stop("gpc_report.py", [self.dir], sig)
                self.assertEqual(rc, code, err)
                self.assertNotIn("Traceback", err)
                self.assertIn("interrupted", err)
                self.assertEqual(leftovers(self.dir), [])
                self.assertFalse(os.path.exists(os.path.join(self.dir, "report.md")))

    def test_compare_sigint(self):
        junit = os.path.join(self.tmp.name, "j.xml")
        rc, out, err = self.stop("gpc_compare.py", [self.dir, self.dir, "--junit", junit], signal.SIGINT)
        self.assertEqual(rc, 130, err)
        self.assertNotIn("Traceback", err)
        self.assertEqual(leftovers(self.tmp.name), [])

    def test_compare_stdout_write_error(self):
        with open("/dev/full", "w") as full:  # read-only use: stdout redirected to it
            r = subprocess.run([PYTHON, os.path.join(HERE, "gpc_compare.py"), self.dir, self.dir], stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot write the output to stdout", r.stderr)
        self.assertNotIn("Traceback", r.stderr)


if __name__ == "__main__":
    unittest.main()
