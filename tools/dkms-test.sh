#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side check: "dkms add" and "dkms build" of this tree against the
# installed headers of the stock kernel, in a private DKMS tree (nothing
# is installed or loaded).  Prints TAP lines:  ok N dkms: ...
#
#   tools/dkms-test.sh [KVER]     default: the stock headers in /usr/src
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

D=(dkms --sourcetree "$T/src" --dkmstree "$T/dkms")
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
