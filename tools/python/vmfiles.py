# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""Print the standard library files the VM tests need ("make vmtests").

Run by the Python that goes into the VM (Debian's /usr/bin/python3),
with -S -B as the tests run.  It imports what the tests import and does
what loads modules lazily (a traceback, an asyncio run), with the
modules the VM goes without made unimportable as they will be there,
then prints one path per line, relative to the standard library
directory: the .py of every module loaded from it, its cached .pyc, and
every extension module (lib-dynload/*.so).
"""

import os
import sys

# Left out: ssl would bring libssl and libcrypto; asyncio does without.
WITHOUT = ("ssl", "_ssl", "_hashlib")
# Codecs Python may pick at startup for the C locale, besides utf-8.
EXTRA = ("encodings.ascii", "encodings.latin_1", "encodings.utf_8")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name in WITHOUT:
        sys.modules[name] = None
    sys.path[:0] = [os.path.join(here, "tests"), here]
    import tap
    tap.collect(sorted(os.path.join(here, "tests", f)
                       for f in os.listdir(os.path.join(here, "tests"))
                       if f.startswith("test_") and f.endswith(".py")))
    import asyncio
    import traceback

    async def nop():
        await asyncio.sleep(0)
    asyncio.run(nop())
    try:
        raise ValueError("x")
    except ValueError:
        traceback.format_exc()
    for name in EXTRA:
        __import__(name)
    # What this script needs for itself from here on does not count.
    loaded = list(sys.modules.values())
    import importlib.util
    import sysconfig

    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    out = set()
    for mod in loaded:
        f = getattr(mod, "__file__", None)
        if not f:
            continue
        f = os.path.realpath(f)
        if not f.startswith(stdlib + os.sep):
            continue
        out.add(os.path.relpath(f, stdlib))
        if f.endswith(".py"):
            pyc = importlib.util.cache_from_source(f)
            if os.path.exists(pyc):
                out.add(os.path.relpath(pyc, stdlib))
    # os.py marks the prefix for getpath, even though it is frozen.
    for f in ("os.py",):
        out.add(f)
    for f in sorted(out):
        print(f)


if __name__ == "__main__":
    main()
