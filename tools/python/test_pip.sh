#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#
# Host check for "make check": the wsp package installs with pip, offline
# and with build isolation on (its build backend is wspbuild.py, in the
# tree, with no requirements), imports without libwsp, drives a libwsp
# built here, and uninstalls.  Prints TAP.

D=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d /tmp/wsp-pip.XXXXXX)
trap 'rm -rf "$T"' EXIT
N=0
FAIL=0
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_NO_CACHE_DIR=1
# Leave no __pycache__ in the tree (pip imports wspbuild from it).
export PYTHONDONTWRITEBYTECODE=1
unset WSP_LIBWSP PYTHONPATH PIP_NO_BUILD_ISOLATION

result()	# NAME STATUS LOG...
{
	N=$((N + 1))
	if [ "$2" = 0 ]; then
		echo "ok $N python: $1"
		return
	fi
	FAIL=$((FAIL + 1))
	echo "not ok $N python: $1"
	shift 2
	for f in "$@"; do
		[ -f "$f" ] && tail -20 "$f" | sed "s|^|# $(basename "$f"): |"
	done
}

echo "TAP version 13"
echo "1..8"

VENV=$T/venv
"$PYTHON" -m venv "$VENV" > "$T/venv.log" 2>&1
result "python3 -m venv" $? "$T/venv.log"
PY=$VENV/bin/python
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$D/wsp/__init__.py")

# pip builds in an isolated environment of its own: with "requires = []"
# there is nothing to fetch for it.
(cd "$T" && "$PY" -m pip install --no-index "$D") > "$T/install.log" 2>&1
result "pip install --no-index tools/python, build isolation on" $? \
	"$T/install.log"

# From elsewhere than the tree, without libwsp anywhere: import is lazy.
got=$(cd "$T" && "$PY" -c 'import wsp, wsp.aio; print(wsp.__version__, wsp.__file__)' 2> "$T/import.log")
case $got in
"$VERSION $VENV/"*) st=0 ;;
*) st=1; echo "got: $got" >> "$T/import.log" ;;
esac
result "the installed wsp $VERSION imports without libwsp" $st "$T/import.log"

# The installed package against the real library (which needs no
# module for addresses and event objects).
st=1
if make -s -C "$D/../lib/wsp" OUTPUT="$T/libwsp" all > "$T/libwsp.log" 2>&1; then
	(cd "$T" && WSP_LIBWSP=$T/libwsp/libwsp.so.1 "$PY" -c '
import wsp
wsp.load_library()
assert wsp.addr_to_str(4242) == "wsp:4242"
assert wsp.str_to_addr("wsp:7") == 7
e = wsp.event_create()
wsp.event_set(e)
assert wsp.wait_for_events([e], timeout=1) == 0
print("ok")') > "$T/lib.log" 2>&1 && grep -qx ok "$T/lib.log" && st=0
else
	cp "$T/libwsp.log" "$T/lib.log"
fi
result "the installed wsp loads libwsp.so.1 from WSP_LIBWSP" $st "$T/lib.log"

# The wheel: pure, and a RECORD whose hashes and sizes hold.
mkdir -p "$T/dist"
(cd "$T" && "$PY" -m pip wheel --no-index -w "$T/dist" "$D") \
	> "$T/wheel.log" 2>&1 &&
"$PY" - "$T/dist/wsp-$VERSION-py3-none-any.whl" >> "$T/wheel.log" 2>&1 <<'EOF'
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
rec = [n for n in names if n.endswith(".dist-info/RECORD")]
assert len(rec) == 1, rec
rows = list(csv.reader(io.TextIOWrapper(z.open(rec[0]), "utf-8")))
listed = {r[0] for r in rows}
assert listed == names, (listed ^ names)
for name, h, size in rows:
    if name == rec[0]:
        assert h == size == "", (name, h, size)
        continue
    data = z.read(name)
    algo, digest = h.split("=", 1)
    assert algo == "sha256"
    assert digest == base64.urlsafe_b64encode(
        hashlib.sha256(data).digest()).rstrip(b"=").decode(), name
    assert int(size) == len(data), name
wheel = z.read(rec[0].replace("RECORD", "WHEEL")).decode()
assert "Tag: py3-none-any" in wheel and "Root-Is-Purelib: true" in wheel
assert "wsp/__init__.py" in names and "wsp/aio.py" in names
assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
print("wheel ok:", len(names), "files")
EOF
result "pip wheel: py3-none-any, RECORD sha256 and sizes match" $? \
	"$T/wheel.log"

(cd "$T" && "$PY" -m pip uninstall -y wsp) > "$T/uninstall.log" 2>&1 &&
	! (cd "$T" && "$PY" -c 'import wsp') 2>> "$T/uninstall.log"
result "pip uninstall wsp removes it" $? "$T/uninstall.log"

# The sdist carries the backend: pip builds the wheel from it, offline.
(cd "$D" && "$PY" -c 'import sys, wspbuild; print(wspbuild.build_sdist(sys.argv[1]))' "$T/dist") \
	> "$T/sdist.log" 2>&1 &&
(cd "$T" && "$PY" -m pip install --no-index "$T/dist/wsp-$VERSION.tar.gz") \
	>> "$T/sdist.log" 2>&1 &&
[ "$(cd "$T" && "$PY" -c 'import wsp; print(wsp.__version__)')" = "$VERSION" ]
result "pip install --no-index of the sdist" $? "$T/sdist.log"

# Editable (PEP 660): the tree itself is imported.
(cd "$T" && "$PY" -m pip uninstall -y wsp && "$PY" -m pip install --no-index -e "$D") \
	> "$T/editable.log" 2>&1 &&
[ "$(cd "$T" && "$PY" -c 'import wsp; print(wsp.__file__)')" = "$D/wsp/__init__.py" ] &&
(cd "$T" && "$PY" -m pip uninstall -y wsp) >> "$T/editable.log" 2>&1
result "pip install -e (PEP 660) imports the tree" $? "$T/editable.log"

[ "$FAIL" = 0 ]
