#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#
# The wsp Python package's tests, in the VM (see "make vmtests" in
# tools/python): Debian's Python from ./python/, run through its own
# loader with its own libraries, as the VM has none.  All test files run
# in one interpreter (tests/tap.py), which prints kselftest TAP.

DIR=$(cd "$(dirname "$0")" && pwd)
P=$DIR/python
PY=$(ls "$P"/bin/python3* 2>/dev/null | head -1)
LOADER=$P/lib/ld-linux-x86-64.so.2

if [ -z "$PY" ] || [ ! -x "$LOADER" ]; then
	echo "1..0 # SKIP python is not available (make vmtests had no /usr/bin/python3)"
	exit 4
fi
if [ ! -f "$P/lib/libwsp.so.1" ]; then
	echo "1..0 # SKIP libwsp is not available (it did not build)"
	exit 4
fi
if [ ! -r /proc/net/wsp ] && [ -z "$WSP_PY_NOCHECK" ]; then
	echo "1..0 # SKIP wsp.ko is not loaded"
	exit 4
fi

# -S: no site (nothing to find there); -B: write no .pyc.
PYTHONHOME=$P PYTHONPATH=$P/site WSP_LIBWSP=$P/lib/libwsp.so.1 \
	exec "$LOADER" --library-path "$P/lib" "$PY" -B -S "$P/tests/tap.py" "$@"
