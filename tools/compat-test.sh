#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side check of the compat probes (net/wsp/compat/gen-compat.sh):
#  - make KDIR=A, then make KDIR=B in the same tree builds for B;
#  - a probe whose two forms both fail (here: its include deleted) stops
#    the build with a message naming it, and no module is built;
#  - a probe whose two forms both compile stops the build too;
#  - with MAINLINE_KDIR, compat/mainline.h claims exactly the new forms
#    that the probes find in that (newest) kernel.
# Prints TAP lines:  ok N compat: ...
#
#   tools/compat-test.sh KDIR_A [KDIR_B]
#
# Environment: WSP_TREE (default: this repo), MAINLINE_KDIR.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TREE=${WSP_TREE:-$REPO}
A=${1:?usage: compat-test.sh KDIR_A [KDIR_B]}
B=${2:-}
N=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

tap()	# ok|fail NAME
{
	N=$((N + 1))
	if [ "$1" = ok ]; then
		echo "ok $N compat: $2"
	else
		echo "not ok $N compat: $2"
	fi
}

release()
{
	sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' \
		"$1/include/generated/utsrelease.h"
}

# A fresh copy of the tree, as shipped.
copy()
{
	rm -rf "$T/$1" && mkdir -p "$T/$1" &&
	rsync -a --exclude=/.git --exclude=/out --exclude='*.o' \
		--exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude=modules.order \
		--exclude=Module.symvers --exclude=net/wsp/compat/compat.h \
		"$TREE/" "$T/$1/"
}

if [ -z "$B" ]; then
	tap ok "make KDIR=A then KDIR=B builds for B # SKIP one kernel tree only"
else
	copy ab
	if make -C "$T/ab" KDIR="$A" > "$T/ab.log" 2>&1 &&
	   [ "$(modinfo -F vermagic "$T/ab/net/wsp/wsp.ko" | cut -d' ' -f1)" = "$(release "$A")" ] &&
	   make -C "$T/ab" KDIR="$B" >> "$T/ab.log" 2>&1 &&
	   [ "$(modinfo -F vermagic "$T/ab/net/wsp/wsp.ko" | cut -d' ' -f1)" = "$(release "$B")" ] &&
	   grep -q "for $B:" "$T/ab/net/wsp/compat/compat.h"; then
		tap ok "make KDIR=$(release "$A") then KDIR=$(release "$B") builds for the second"
	else
		tail -20 "$T/ab.log" | sed 's/^/# /'
		tap fail "make KDIR=A then KDIR=B builds for B"
	fi
fi

# expect_stop NAME MESSAGE: the build in $T/NAME fails, says MESSAGE, and
# leaves no module behind.
expect_stop()
{
	if make -C "$T/$1" KDIR="$A" > "$T/$1.log" 2>&1; then
		tap fail "$3 (the build went on)"
	elif grep -q "$2" "$T/$1.log" && [ ! -f "$T/$1/net/wsp/wsp.ko" ] &&
	     [ ! -f "$T/$1/net/wsp/compat/compat.h" ]; then
		grep "gen-compat.sh:" "$T/$1.log" | sed 's/^/# /'
		tap ok "$3"
	else
		tail -20 "$T/$1.log" | sed 's/^/# /'
		tap fail "$3"
	fi
}

copy broken
sed -i '/#include <net\/sock.h>/d' \
	"$T/broken/net/wsp/compat/probes/sk_scm_credentials.c"
expect_stop broken "probe sk_scm_credentials: neither the old nor the new form compiles" \
	"a probe with its include deleted stops the build"

copy both
printf '%s\n' '// SPDX-License-Identifier: GPL-2.0' \
	'/* A probe that cannot tell the two forms apart. */' \
	'int probe(void);' 'int probe(void) { return 0; }' \
	> "$T/both/net/wsp/compat/probes/zz_ambiguous.c"
expect_stop both "probe zz_ambiguous: both the old and the new form compile" \
	"a probe whose two forms both compile stops the build"

if [ -n "${MAINLINE_KDIR:-}" ]; then
	copy mainline
	if make -s -C "$T/mainline" KDIR="$MAINLINE_KDIR" compat-report \
		> "$T/report" 2> "$T/report.err"; then
		awk '$2 == "new" { print "COMPAT_HAVE_" toupper($1) }' \
			"$T/report" | sort > "$T/probed"
		sed -n 's/^#define \(COMPAT_HAVE_[A-Z0-9_]*\) 1$/\1/p' \
			"$TREE/net/wsp/compat/mainline.h" | sort > "$T/claimed"
		if cmp -s "$T/probed" "$T/claimed" &&
		   [ "$(awk '$2 == "old"' "$T/report" | wc -l)" = 0 ]; then
			tap ok "mainline.h claims what $(release "$MAINLINE_KDIR") has"
		else
			diff "$T/claimed" "$T/probed" | sed 's/^/# /'
			sed 's/^/# /' "$T/report"
			tap fail "mainline.h claims what $(release "$MAINLINE_KDIR") has"
		fi
	else
		sed 's/^/# /' "$T/report.err"
		tap fail "compat-report for $MAINLINE_KDIR"
	fi
fi
