#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The distribution path: "dkms add", "build", "install" and "remove" of
# this tree against a kernel's installed headers, in a private DKMS tree
# and install tree, then "make install" staged with DESTDIR and
# "make uninstall".  Nothing is loaded, and nothing is left behind.
# "make check" runs it on the host (bookworm) and in each suite's chroot
# (trixie, sid), against that suite's headers.  Prints TAP lines:
#   ok N dkms: ...
#
#   tools/dkms-test.sh [KVER]     default: the newest headers in /usr/src
#
# Environment: WSP_TREE (default: this repo), TAP_START (first test
# number - 1, default 0).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TREE=${WSP_TREE:-$REPO}
N=${TAP_START:-0}
KVER=${1:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V |
	    tail -1 | sed 's|.*/linux-headers-||')}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

tap()	# ok|fail NAME
{
	N=$((N + 1))
	if [ "$1" = ok ]; then
		echo "ok $N dkms: $2"
	else
		echo "not ok $N dkms: $2"
	fi
}

if ! command -v dkms > /dev/null; then
	N=$((N + 1))
	echo "ok $N dkms: build # SKIP dkms is not installed (apt-get install dkms)"
	exit 0
fi
if [ -z "$KVER" ] || [ ! -d "/lib/modules/$KVER/build" ] &&
   [ ! -d "/usr/src/linux-headers-$KVER" ]; then
	N=$((N + 1))
	echo "ok $N dkms: build # SKIP no kernel headers in /usr/src"
	exit 0
fi
KSRC=/usr/src/linux-headers-$KVER
[ -d "$KSRC" ] || KSRC=/lib/modules/$KVER/build

VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TREE/dkms.conf")
SRC=$T/src/wsp-$VER
mkdir -p "$SRC" "$T/dkms"
# The tree as it would be shipped: no build products, no git, no out/.
rsync -a --exclude=/.git --exclude=/out --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' \
	--exclude=modules.order --exclude=Module.symvers \
	"$TREE/" "$SRC/"

# A private install tree for every step: dkms picks the module
# compression from the install tree it looks at, so build and install
# must look at the same one.
I=$T/installtree
mkdir -p "$I/$KVER/kernel"
D=(dkms --sourcetree "$T/src" --dkmstree "$T/dkms" --installtree "$I")
if "${D[@]}" add -m wsp -v "$VER" > "$T/add.log" 2>&1; then
	tap ok "add wsp/$VER"
else
	sed 's/^/# /' "$T/add.log"
	tap fail "add wsp/$VER"
	exit 1
fi
if "${D[@]}" build -m wsp -v "$VER" -k "$KVER" --kernelsourcedir "$KSRC" \
	> "$T/build.log" 2>&1 &&
   ko=$(find "$T/dkms/wsp/$VER/$KVER" -name 'wsp.ko*' | head -1) &&
   [ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$KVER "; then
	tap ok "build wsp/$VER for $KVER"
else
	sed 's/^/# /' "$T/build.log"
	find "$T/dkms" -name make.log -exec sed 's/^/# make.log: /' {} \;
	tap fail "build wsp/$VER for $KVER"
	exit 1
fi

if "${D[@]}" install -m wsp -v "$VER" -k "$KVER" \
	--kernelsourcedir "$KSRC" > "$T/install.log" 2>&1 &&
   [ -n "$(find "$I/$KVER" -name 'wsp.ko*' 2>/dev/null)" ]; then
	tap ok "install wsp/$VER for $KVER"
else
	sed 's/^/# /' "$T/install.log"
	tap fail "install wsp/$VER for $KVER"
fi
if "${D[@]}" remove -m wsp -v "$VER" --all \
	> "$T/remove.log" 2>&1 &&
   [ -z "$(find "$I" -name 'wsp.ko*' 2>/dev/null)" ]; then
	tap ok "remove wsp/$VER"
else
	sed 's/^/# /' "$T/remove.log"
	tap fail "remove wsp/$VER"
fi

# make install, staged: the module under extra/, the uapi header; then
# make uninstall takes both away again.
S=$T/stage
MK=(make -C "$SRC" KDIR="$KSRC" DESTDIR="$S")
if "${MK[@]}" install > "$T/mkinstall.log" 2>&1 &&
   ko=$(find "$S/lib/modules" -path '*/extra/*' -name 'wsp.ko*' | head -1) &&
   [ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$KVER " &&
   cmp -s "$TREE/include/uapi/linux/wsp.h" "$S/usr/include/linux/wsp.h"; then
	tap ok "make install DESTDIR for $KVER"
else
	sed 's/^/# /' "$T/mkinstall.log"
	tap fail "make install DESTDIR for $KVER"
fi
if "${MK[@]}" uninstall > "$T/mkuninstall.log" 2>&1 &&
   [ -z "$(find "$S" -name 'wsp.ko*' -o -name wsp.h)" ]; then
	tap ok "make uninstall DESTDIR for $KVER"
else
	sed 's/^/# /' "$T/mkuninstall.log"
	tap fail "make uninstall DESTDIR for $KVER"
fi
