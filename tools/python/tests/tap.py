# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""A tiny test runner printing kselftest TAP.

    python3 tests/tap.py [test_file.py ...]     (default: tests/test_*.py)

A test is a module-level function whose name starts with test_, run in
the order of the file; its docstring's first paragraph names it in the
TAP line.  A test fails by raising (assert).  Each gets TEST_SECONDS (env
WSP_TEST_SECONDS, default 30) before SIGALRM interrupts it.  Exits 0 if
every test passed, 1 otherwise.  All files run in this one interpreter:
under emulation, starting Python costs more than the tests.
"""

import faulthandler
import glob
import os
import signal
import sys
import time
import traceback

TEST_SECONDS = float(os.environ.get("WSP_TEST_SECONDS", "30"))


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test took more than %gs" % TEST_SECONDS)


def collect(paths):
    """[(label, function or exception)] of every test of the files."""
    tests = []
    for path in paths:
        d, f = os.path.split(os.path.abspath(path))
        name = f[:-3] if f.endswith(".py") else f
        if d not in sys.path:
            sys.path.insert(0, d)
        try:
            mod = __import__(name)
        except BaseException as e:	# a broken file is one failed test
            tests.append(("%s: import" % name, e))
            continue
        for attr, fn in list(vars(mod).items()):
            if attr.startswith("test_") and callable(fn):
                # The docstring's first paragraph, on one line.
                doc = (fn.__doc__ or "").strip().split("\n\n")[0]
                doc = " ".join(doc.split())
                label = "%s: %s" % (name[5:] if name.startswith("test_")
                                    else name, doc or attr)
                tests.append((label, fn))
    return tests


def diag(text):
    for line in text.rstrip("\n").splitlines():
        print("# " + line)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    paths = argv or sorted(glob.glob(os.path.join(here, "test_*.py")))
    t0 = time.monotonic()
    tests = collect(paths)
    print("TAP version 13")
    print("1..%d" % len(tests), flush=True)
    failed = 0
    signal.signal(signal.SIGALRM, _alarm)
    for n, (label, fn) in enumerate(tests, 1):
        t = time.monotonic()
        err = None
        if isinstance(fn, BaseException):
            err = "".join(traceback.format_exception(fn))
        else:
            # Last resort if the alarm cannot get through: stacks, exit.
            faulthandler.dump_traceback_later(TEST_SECONDS + 30, exit=True)
            signal.setitimer(signal.ITIMER_REAL, TEST_SECONDS)
            try:
                fn()
            except BaseException:
                err = traceback.format_exc()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                faulthandler.cancel_dump_traceback_later()
        if err is None:
            print("ok %d %s" % (n, label))
        else:
            failed += 1
            diag(err)
            print("not ok %d %s" % (n, label))
        diag("%.2fs" % (time.monotonic() - t))
        sys.stdout.flush()
    diag("%d tests, %d failed, %.1fs" % (len(tests), failed,
                                         time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
