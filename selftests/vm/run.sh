#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The AF_WSP test harness: build the kernels, the module and the tests, boot
# every kernel in QEMU and report one TAP line per test.  See README here.
#
#   run.sh check            every kernel in $KERNELS (default: all)
#   run.sh fuzz             the long wsp_fuzz run on the debug kernels
#   run.sh vm               interactive VM for $KERNEL, wsp.ko loaded
#   run.sh demo             the wspcat scene (tools/wspcat/demo.sh) in a VM
#   run.sh style            checkpatch (from linux-source) over our sources
#   run.sh sparse           sparse (C=2) over the module, debug kernel
#   run.sh packages         print the Debian packages the harness needs
#   run.sh kernel           build or fetch $KERNEL only (and print its KDIR)
#
# Environment: WSP_TREE (sources under test, default: this repo), KERNELS,
# KERNEL, WSP_CACHE (default ~/.cache/wsp), WSP_OUT (default $WSP_TREE/out),
# JOBS.
set -euo pipefail
unset MAKEFLAGS MFLAGS MAKELEVEL

VM=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$VM/../.." && pwd)
WSP_TREE=$(cd "${WSP_TREE:-$REPO}" && pwd)
CACHE=${WSP_CACHE:-${HOME:-/root}/.cache/wsp}
OUT=${WSP_OUT:-$WSP_TREE/out}
JOBS=${JOBS:-$(($(nproc) + 1))}
ALL_KERNELS="debug-6.1 stock-6.1 stock-6.12 stock-7.x debug-7.x"
KERNELS=${KERNELS:-$ALL_KERNELS}
SRC_PKG=linux-source-6.1
SRC=$CACHE/src/$SRC_PKG
MIRROR=${WSP_MIRROR:-http://deb.debian.org/debian}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}	# per kselftest binary, in the guest
VM_MODE=check
FUZZ_SECONDS=${FUZZ_SECONDS:-1800}	# make fuzz: the most it may take
FUZZ_ARGS=${FUZZ_ARGS:--n 1000000 -t $FUZZ_SECONDS}

log() { echo "# $(date +%T) $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 2; }

# --- packages ---------------------------------------------------------------

PKGS="make gcc libc6-dev bc bison flex libelf-dev libssl-dev perl python3
      cpio gzip xz-utils zstd kmod rsync busybox-static qemu-system-x86 dkms
      debootstrap util-linux liburing-dev pkgconf python3-venv socat $SRC_PKG"
# What a trixie or sid user needs to build the module (and DKMS), inside
# that suite's chroot.  linux-headers-amd64 comes on top.
CHROOT_PKGS="gcc,make,libc6-dev,kmod,bc,bison,flex,libelf-dev,libssl-dev,perl,rsync,dkms,xz-utils,zstd"

apt_install()
{
	local missing="" p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get install -y -q --no-install-recommends $missing >&2 ||
		{ $sudo apt-get update -q >&2 &&
		  $sudo apt-get install -y -q --no-install-recommends $missing >&2; }
}

# The ABI of the current stock kernel of this machine's suite (bookworm),
# or of SUITE's chroot: e.g. 6.1.0-56, 6.12.117+deb13.
stock_abi()	# [SUITE]
{
	${1:+chroot "$CACHE/chroot/$1"} apt-cache depends linux-headers-amd64 \
		2>/dev/null |
		sed -n 's/.*Depends: linux-headers-\(.*\)-amd64$/\1/p' | head -1
}

# --- suites: debootstrapped chroots of trixie and sid -----------------------
#
# $CACHE/chroot/<suite> is a minbase chroot with the suite's own gcc and
# linux-headers-amd64: the module is built there exactly as a user (or
# DKMS) of that suite builds it.  Its package lists are refreshed once a
# day; the kernels taken from it are cached by their ABI.

suite_of()
{
	case $1 in
	stock-6.12) echo trixie ;;
	stock-7.x | debug-7.x) echo sid ;;
	esac
}

# in_chroot SUITE TREE CMD...: CMD in the suite's chroot, with /proc and
# (unless TREE is empty) TREE bind-mounted on /build, in a mount namespace
# of its own: nothing stays mounted, and concurrent runs do not meet.
in_chroot()
{
	local d=$CACHE/chroot/$1 tree=$2
	shift 2
	unshare -m --propagation private sh -c '
		d=$1 t=$2
		shift 2
		mount -t proc proc "$d/proc" || exit 1
		[ -z "$t" ] || mount --bind "$t" "$d/build" || exit 1
		exec chroot "$d" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 "$@"' sh "$d" "$tree" "$@"
}

prepare_suite()
{
	local suite=$1 d=$CACHE/chroot/$1 today
	today=$(date +%F)
	[ -f "$d/.wsp-ready" ] &&
		[ "$(cat "$d/.wsp-updated" 2>/dev/null)" = "$today" ] && return 0
	mkdir -p "$CACHE/chroot"
	(
		flock 9
		if [ ! -f "$d/.wsp-base" ]; then
			log "debootstrap $suite (log: $d.log)"
			rm -rf "$d.tmp"
			debootstrap --variant=minbase --include="$CHROOT_PKGS" \
				"$suite" "$d.tmp" "$MIRROR" > "$d.log" 2>&1 ||
				{ tail -20 "$d.log"; exit 1; }
			# A suite's Release file can outlive its Valid-Until
			# on a mirror snapshot; the signature still counts.
			echo 'Acquire::Check-Valid-Until "false";' \
				> "$d.tmp/etc/apt/apt.conf.d/99wsp"
			mkdir -p "$d.tmp/build"
			rm -rf "$d" && mv "$d.tmp" "$d"
			touch "$d/.wsp-base"
		fi
		[ -f "$d/.wsp-ready" ] &&
			[ "$(cat "$d/.wsp-updated" 2>/dev/null)" = "$today" ] &&
			exit 0
		log "$suite: apt-get update, linux-headers-amd64"
		in_chroot "$suite" "" sh -c 'export DEBIAN_FRONTEND=noninteractive
			apt-get update -q &&
			apt-get install -y -q --no-install-recommends \
				linux-headers-amd64' >> "$d.log" 2>&1 ||
			{ tail -20 "$d.log"; exit 1; }
		echo "$today" > "$d/.wsp-updated"
		touch "$d/.wsp-ready"
	) 9>"$d.lock"
}

# suite_fetch SUITE DIR PKG...: the packages, extracted (not installed)
# under DIR/root, once.
suite_fetch()
{
	local suite=$1 d=$2 p
	shift 2
	[ -f "$d/.wsp-done" ] && return 0
	mkdir -p "${d%/*}"
	(
		flock 9
		[ -f "$d/.wsp-done" ] && exit 0
		log "$suite: fetching $*"
		rm -rf "$d" && mkdir -p "$d/deb" "$CACHE/chroot/$suite/tmp/wsp-deb"
		in_chroot "$suite" "" sh -c 'cd /tmp/wsp-deb && rm -f *.deb &&
			apt-get download -q "$@"' sh "$@" >&2 || exit 1
		mv "$CACHE/chroot/$suite"/tmp/wsp-deb/*.deb "$d/deb/"
		for p in "$d"/deb/*.deb; do
			dpkg-deb -x "$p" "$d/root" || exit 1
		done
		rm -rf "$d/deb"
		touch "$d/.wsp-done"
	) 9>"$d.lock"
}

# --- kernels ----------------------------------------------------------------

extract_source()
{
	local ver
	ver=$(dpkg-query -W -f='${Version}' $SRC_PKG)
	[ "$(cat "$SRC.version" 2>/dev/null)" = "$ver" ] && return 0
	mkdir -p "$CACHE/src"
	(
		flock 9
		[ "$(cat "$SRC.version" 2>/dev/null)" = "$ver" ] && exit 0
		log "extracting $SRC_PKG $ver"
		rm -rf "$SRC.tmp" && mkdir "$SRC.tmp"
		tar -C "$SRC.tmp" -xf /usr/src/$SRC_PKG.tar.xz
		rm -rf "$SRC" && mv "$SRC.tmp/$SRC_PKG" "$SRC" && rmdir "$SRC.tmp"
		echo "$ver" > "$SRC.version"
	) 9>"$SRC.lock"
}

# A debug kernel is keyed by its source version and config fragments:
# debug_kdir NAME SRC FRAGMENT...
debug_kdir()
{
	local name=$1 src=$2 key
	shift 2
	key=$({ echo recipe=1; cat "$src.version" "$@"; } |
		sha256sum | cut -c1-16)
	echo "$CACHE/kernels/$name-$key"
}

# build_debug_kernel O SRC FRAGMENT...
build_debug_kernel()
{
	local o=$1 src=$2 frag
	shift 2
	frag=("$@")
	[ -f "$o/.wsp-built" ] && return 0
	mkdir -p "$CACHE/kernels"
	(
		flock 9
		[ -f "$o/.wsp-built" ] && exit 0
		log "building the debug kernel in $o (log: $o.log)"
		{
			make -C "$src" O="$o" allnoconfig &&
			"$src"/scripts/kconfig/merge_config.sh -m -O "$o" \
				"$o/.config" "${frag[@]}" &&
			make -C "$src" O="$o" olddefconfig
		} > "$o.log" 2>&1 || { tail -30 "$o.log"; exit 1; }
		# A symbol that Kconfig silently dropped would make the run
		# lie about what it checks: refuse.
		grep -h '^CONFIG_.*=[ym]$' "${frag[@]}" | while read -r opt; do
			grep -qx "$opt" "$o/.config" ||
				{ echo "config fragment: $opt did not stick"; exit 1; }
		done
		make -C "$src" O="$o" -j"$JOBS" bzImage modules >> "$o.log" 2>&1 ||
			{ tail -40 "$o.log"; exit 1; }
		touch "$o/.wsp-built"
	) 9>"$o.lock"
}

# Stock kernel: the unsigned image, extracted (not installed), and the
# matching headers package for building the module.
fetch_stock_kernel()
{
	local abi=$1 d=$CACHE/stock/$1
	apt_install linux-headers-$abi-amd64 || return 1
	[ -f "$d/.wsp-done" ] && return 0
	mkdir -p "$CACHE/stock"
	(
		flock 9
		[ -f "$d/.wsp-done" ] && exit 0
		log "fetching linux-image-$abi-amd64-unsigned"
		rm -rf "$d" && mkdir -p "$d/deb"
		(cd "$d/deb" && apt-get download -q \
			linux-image-$abi-amd64-unsigned) >&2 ||
			{ apt-get update -q >&2 && (cd "$d/deb" &&
			  apt-get download -q linux-image-$abi-amd64-unsigned) >&2; }
		dpkg-deb -x "$d"/deb/*.deb "$d/root" || exit 1
		depmod -b "$d/root" "$abi-amd64" || exit 1
		rm -rf "$d/deb"
		touch "$d/.wsp-done"
	) 9>"$CACHE/stock/$abi.lock"
}

# sid's newest linux-source-7.x, extracted to $CACHE/src and hooked into
# net/Kconfig and net/Makefile: AF_WSP is built there in tree, as
# net/wsp, which proves the in-tree Kbuild and compat/mainline.h.
SRC7=""
extract_source7()
{
	local pkg ver d
	prepare_suite sid || return 1
	pkg=$(chroot "$CACHE/chroot/sid" apt-cache depends linux-source |
		sed -n 's/.*Depends: \(linux-source-7\.[0-9]*\)$/\1/p' | head -1)
	[ -n "$pkg" ] || { echo "sid has no linux-source-7.x"; return 1; }
	ver=$(chroot "$CACHE/chroot/sid" apt-cache show --no-all-versions "$pkg" |
		sed -n 's/^Version: //p')
	SRC7=$CACHE/src/$pkg
	[ "$(cat "$SRC7.version" 2>/dev/null)" = "$ver" ] && return 0
	d=$CACHE/dl/$pkg-$ver
	suite_fetch sid "$d" "$pkg" || return 1
	(
		flock 9
		[ "$(cat "$SRC7.version" 2>/dev/null)" = "$ver" ] && exit 0
		log "extracting $pkg $ver"
		rm -rf "$SRC7.tmp" && mkdir "$SRC7.tmp"
		tar -C "$SRC7.tmp" -xf "$d/root/usr/src/$pkg.tar.xz" || exit 1
		grep -q net/wsp/Kconfig "$SRC7.tmp/$pkg/net/Kconfig" ||
			sed -i '/^source "net\/unix\/Kconfig"/a source "net/wsp/Kconfig"' \
				"$SRC7.tmp/$pkg/net/Kconfig"
		grep -q '^source "net/wsp/Kconfig"' "$SRC7.tmp/$pkg/net/Kconfig" ||
			{ echo "cannot hook net/wsp into net/Kconfig"; exit 1; }
		echo 'obj-$(CONFIG_WSP)		+= wsp/' >> "$SRC7.tmp/$pkg/net/Makefile"
		rm -rf "$SRC7" && mv "$SRC7.tmp/$pkg" "$SRC7" && rmdir "$SRC7.tmp"
		rm -rf "$d"
		echo "$ver" > "$SRC7.version"
	) 9>"$SRC7.lock"
}

# Drop the tree's sources into the 7.x source as net/wsp.  Not rsync -a:
# a file that changed must look newer than its object.
intree_sync()
{
	rsync -r --checksum --delete --exclude=compat/compat.h \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude=modules.order \
		"$WSP_TREE/net/wsp/" "$SRC7/net/wsp/" &&
	rsync -r --checksum "$WSP_TREE/include/uapi/linux/wsp.h" \
		"$SRC7/include/uapi/linux/wsp.h"
}

DEBUG61_FRAGS=("$VM"/config/base.config "$VM"/config/debug.config)
DEBUG7_FRAGS=("${DEBUG61_FRAGS[@]}" "$VM"/config/wsp-intree.config)

# Fills KIMAGE, KDIR, KMODS (modules tree for dependencies, or empty),
# KDEBUG, KTIMEOUT, KSUITE (chroot to build the module in, or empty) and
# KINTREE (1: the module is built inside the kernel tree) for a kernel
# label, building or fetching as needed.
prepare_kernel()
{
	KSUITE=$(suite_of "$1")
	KINTREE=0
	case $1 in
	debug-6.1)
		extract_source || return 1
		KDIR=$(debug_kdir debug-6.1 "$SRC" "${DEBUG61_FRAGS[@]}")
		build_debug_kernel "$KDIR" "$SRC" "${DEBUG61_FRAGS[@]}" ||
			return 1
		KIMAGE=$KDIR/arch/x86/boot/bzImage
		KMODS=""
		KDEBUG=1
		;;
	stock-6.1)
		local abi
		abi=$(stock_abi)
		[ -n "$abi" ] || { apt-get update -q >&2; abi=$(stock_abi); }
		[ -n "$abi" ] || { echo "cannot find the stock kernel ABI"; return 1; }
		fetch_stock_kernel "$abi" || return 1
		KDIR=/usr/src/linux-headers-$abi-amd64
		KIMAGE=$CACHE/stock/$abi/root/boot/vmlinuz-$abi-amd64
		KMODS=$CACHE/stock/$abi/root/lib/modules/$abi-amd64
		KDEBUG=0
		;;
	stock-6.12 | stock-7.x)
		local abi d
		prepare_suite "$KSUITE" || return 1
		abi=$(stock_abi "$KSUITE")
		[ -n "$abi" ] || { echo "no stock kernel ABI in $KSUITE"; return 1; }
		d=$CACHE/stock/$abi
		# trixie ships the image and its modules as linux-image-*-unsigned;
		# sid ships the bare image as linux-binary-unsigned-*.
		if [ "$KSUITE" = trixie ]; then
			suite_fetch "$KSUITE" "$d" linux-image-$abi-amd64-unsigned ||
				return 1
		else
			suite_fetch "$KSUITE" "$d" linux-binary-unsigned-$abi-amd64 ||
				return 1
		fi
		KIMAGE=$(ls "$d"/root/boot/vmlinuz-$abi-amd64 \
			"$d"/root/usr/lib/modules/$abi-amd64/vmlinuz.unsigned \
			2>/dev/null | head -1)
		[ -n "$KIMAGE" ] || { echo "no kernel image in $d"; return 1; }
		KMODS=""
		for m in "$d"/root/lib/modules/$abi-amd64 \
			 "$d"/root/usr/lib/modules/$abi-amd64; do
			[ -f "$m/modules.builtin" ] && KMODS=$m
		done
		[ -z "$KMODS" ] || [ -f "$KMODS/modules.dep" ] ||
			depmod -b "${KMODS%/lib/modules/*}" "$abi-amd64" || return 1
		KDIR=/usr/src/linux-headers-$abi-amd64
		[ -d "$CACHE/chroot/$KSUITE$KDIR" ] ||
			{ echo "no $KDIR in the $KSUITE chroot"; return 1; }
		KDEBUG=0
		;;
	debug-7.x)
		extract_source7 || return 1
		KDIR=$(debug_kdir debug-7.x "$SRC7" "${DEBUG7_FRAGS[@]}")
		if [ ! -f "$KDIR/.wsp-built" ]; then
			(flock 9; intree_sync) 9>"$KDIR.lock" || return 1
			build_debug_kernel "$KDIR" "$SRC7" "${DEBUG7_FRAGS[@]}" ||
				return 1
		fi
		KIMAGE=$KDIR/arch/x86/boot/bzImage
		KMODS=""
		KSUITE=""
		KINTREE=1
		KDEBUG=1
		;;
	*)
		die "unknown kernel '$1' (have: $ALL_KERNELS)"
		;;
	esac
	# Bounds on a hung VM, not the suite's timing: the longest warm runs
	# seen on 2 cores took 1223 s (debug-6.1) and 375 s (stock-7.x).
	if [ "$KDEBUG" = 1 ]; then
		KTIMEOUT=${DEBUG_TIMEOUT:-1800}
	else
		KTIMEOUT=${STOCK_TIMEOUT:-900}
	fi
}

# --- module and tests -------------------------------------------------------

# Each kernel gets its own copy of the tree, built with W=1: on the host
# (bookworm, debug-6.1), in the suite's chroot with its own gcc and
# headers (trixie, sid), or inside the 7.x source (debug-7.x, where the
# objects are copied back to the tree so that the rest does not care).
# The compat probes' findings go to $OUT/LABEL/compat.txt.
build_module()
{
	local label=$1 tree=$OUT/$1/tree log=$OUT/$1/build.log m
	mkdir -p "$tree"
	rsync -a --delete --exclude=/.git --exclude=/out \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude=modules.order \
		--exclude=Module.symvers --exclude=net/wsp/compat/compat.h \
		"$WSP_TREE/" "$tree/"
	: > "$log"
	if [ "$KINTREE" = 1 ]; then
		echo "in tree: net/wsp of $SRC7, compat/mainline.h" \
			> "$OUT/$label/compat.txt"
		(
			flock 9
			intree_sync &&
			make -C "$SRC7" O="$KDIR" -j"$JOBS" W=1 \
				net/wsp/wsp.ko net/wsp/wsp_kunit.ko &&
			for m in wsp wsp_kunit; do
				cp "$KDIR/net/wsp/$m.ko" "$tree/net/wsp/" || exit 1
			done
		) 9>"$KDIR.lock" >> "$log" 2>&1 || return 1
	elif [ -n "$KSUITE" ]; then
		in_chroot "$KSUITE" "$tree" make -s -C /build KDIR="$KDIR" \
			compat-report > "$OUT/$label/compat.txt" 2>&1 &&
		in_chroot "$KSUITE" "$tree" make -C /build KDIR="$KDIR" W=1 \
			>> "$log" 2>&1 || return 1
	else
		make -s -C "$tree" KDIR="$KDIR" compat-report \
			> "$OUT/$label/compat.txt" 2>&1 &&
		make -C "$tree" KDIR="$KDIR" W=1 >> "$log" 2>&1 || return 1
	fi
	[ -f "$tree/net/wsp/wsp.ko" ] || return 1
	for m in "$tree"/net/wsp/*.ko; do
		modinfo "$m" > /dev/null || return 1
	done
}

# W=1 must be quiet: every warning in the module's build log.
build_warnings()
{
	grep -E '(warning|error):' "$OUT/$1/build.log" || true
}

# Contract with selftests/wsp/Makefile (see README): it includes lib.mk
# from $(KSRC), builds static binaries into $(OUTPUT) and lists the ones
# to run in TEST_GEN_PROGS.
build_selftests()
{
	local st=$OUT/selftests ks=$WSP_TREE/selftests/wsp d
	mkdir -p "$st" && rm -f "$st/list"	# make keeps the rest up to date
	gcc -static -O2 -Wall -I"$SRC/tools/testing/selftests" \
		-I"$WSP_TREE/include/uapi" -o "$st/vm_smoke" \
		"$VM/wsp_smoke.c" -lpthread || return 1
	gcc -static -O2 -Wall -I"$WSP_TREE/include/uapi" \
		-o "$st/vm_filter_exit" "$VM/wsp_filter_exit.c" || return 1
	echo vm_smoke > "$st/list"
	# Suites kept elsewhere: each directory listed in extra-tests installs
	# its programs here ("make vmtests OUTPUT=dir") and prints the names of
	# those to run.
	for d in $(sed 's/#.*//' "$VM/extra-tests" 2>/dev/null); do
		[ -d "$WSP_TREE/$d" ] || { log "no $d in $WSP_TREE"; continue; }
		make -s -C "$WSP_TREE/$d" KSRC="$SRC" OUTPUT="$st" vmtests >> "$st/list" ||
			return 1
	done
	[ -f "$ks/Makefile" ] || { log "no selftests/wsp/Makefile yet"; return 0; }
	make -C "$ks" KSRC="$SRC" OUTPUT="$st" -j"$JOBS" >&2 || return 1
	make -s -C "$ks" -f Makefile -f "$VM/list-tests.mk" KSRC="$SRC" \
		OUTPUT="$st" wspvm-list-tests | tr ' ' '\n' |
		sed -n 's|.*/||p' >> "$st/list"
}

# Copy wsp.ko's dependencies from the stock tree ($KMODS) into the
# initramfs rooted at $1, deepest first, listed in lib/modules/deps.list.
copy_module_deps()
{
	local r=$1 m

	: > "$r/lib/modules/deps.list"
	for m in $(modinfo -F depends "$r/lib/modules/wsp.ko" | tr , ' '); do
		modprobe -S "${KMODS##*/}" -d "${KMODS%/lib/modules/*}" \
			--show-depends "$m" | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' | while read -r m; do
		cp "$m" "$r/lib/modules/"
		echo "${m##*/}" >> "$r/lib/modules/deps.list"
	done
}

# A small per-run initramfs: busybox, init, tests, module.
make_initrd()
{
	local label=$1 mode=$2 r=$OUT/$1/initramfs m
	rm -rf "$r" && mkdir -p "$r"/{bin,etc,lib/modules,tests,root}
	cp /bin/busybox "$r/bin/busybox"
	cp "$VM/init" "$r/init"
	cp -a "$OUT/selftests/." "$r/tests/"
	mv "$r/tests/list" "$r/tests/list.tmp"
	sed 's|^|/tests/|' "$r/tests/list.tmp" > "$r/tests/list"
	rm "$r/tests/list.tmp"
	# wsp.ko, then any other module the tree builds (wsp_kunit.ko on a
	# kernel with KUnit), loaded after it in name order.
	cp "$OUT/$label/tree/net/wsp/wsp.ko" "$r/lib/modules/"
	find "$OUT/$label/tree/net" -name '*.ko' ! -name wsp.ko | sort |
		while read -r m; do
			cp "$m" "$r/lib/modules/"
			echo "${m##*/}" >> "$r/lib/modules/extra.list"
		done
	[ -z "$KMODS" ] || copy_module_deps "$r"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
	cat > "$r/etc/wspvm.conf" <<-EOF
	KLABEL=$label
	DEBUG=$KDEBUG
	MODE=$mode
	TEST_TIMEOUT=$TEST_TIMEOUT
	FUZZ_ARGS="$FUZZ_ARGS"
	EOF
	(cd "$r" && find . | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 > "$OUT/$label/initrd.cpio.gz"
}

qemu_cmd()
{
	local label=$1
	# panic_on_warn on both kernels: a WARN, KASAN or UBSAN report stops
	# the VM at once, so it can never be lost in a long log.
	#
	# No LA57.  KASAN's shadow bounds follow pgtable_l5_enabled(), the
	# boot CPU's LA57 bit, and identify_cpu() clears that bit while it
	# rescans CPUID, which 7.2's table parser makes a long window.  An
	# interrupt inside it that touches the direct map is reported as a
	# wild access, and panics the VM before init runs:
	#   BUG: KASAN: wild-memory-access in do_raw_spin_lock
	# under __cpuid_reset_table.  The race is the base kernel's and hit
	# by chance; with 4-level paging, as on most hardware, the bounds do
	# not move.
	#
	# The stock kernels run their two vCPUs on one TCG thread.  They are
	# built with CONFIG_JUMP_LABEL and patch their own text whenever a
	# static key flips; under multi-threaded TCG (QEMU 7.2, bookworm's)
	# the other vCPU now and then runs a translation of a site that still
	# holds the INT3 of text_poke's protocol, after the poke has finished,
	# and the kernel dies of it:
	#   Oops: int3 ... RIP: ttwu_do_activate+0x8c  Code: ... 66 <90>
	# where the bytes at the trap are already the new instruction.
	# Flipping sched_schedstats 300 times while two shells fork does it
	# in 4 of 11 boots of stock 7.2 and 2 of 2 of 6.12; 6.1 locked up
	# both vCPUs instead.  With thread=single, none of 8 boots of 7.2
	# failed.  The debug kernels have no jump labels, and keep a host
	# thread per vCPU for the races they exist to find.
	local accel=tcg,thread=multi
	case $label in
	stock-*) accel=tcg,thread=single ;;
	esac
	QEMU=(qemu-system-x86_64 -machine q35 -accel "$accel"
		-cpu max,la57=off -smp 2 -m 768
		-nographic -no-reboot -nic none
		-kernel "$KIMAGE" -initrd "$OUT/$label/initrd.cpio.gz"
		-append "console=ttyS0 rdinit=/init panic=-1 oops=panic panic_on_warn=1 softlockup_panic=1 nokaslr no_hash_pointers printk.time=1")
}

# --- running ----------------------------------------------------------------

N=0
PASSED=0
FAILED=0

tap()	# ok|fail LABEL: NAME
{
	local st=$1
	shift
	N=$((N + 1))
	if [ "$st" = ok ]; then
		PASSED=$((PASSED + 1))
		echo "ok $N $*"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N $*"
	fi
}

# Kernel reports first; failing test lines only if there is none.
SPLAT='BUG:|WARNING:|EXPECTATION FAILED|ASSERTION FAILED|KASAN|UBSAN|kmemleak: [0-9]+ new|unreferenced object|circular locking|inconsistent lock state|recursive locking|suspicious RCU|bad unlock balance|Oops|general protection fault|Kernel panic|blocked for more than|ODEBUG:|corruption|refcount_t:|cut here'

show_splat()
{
	local con=$1 first
	first=$(tr -d '\r' < "$con" | grep -nE "$SPLAT" | grep -v ':wspvm: ' |
		head -1 | cut -d: -f1) || true
	[ -n "$first" ] || first=$(tr -d '\r' < "$con" | grep -n '^not ok' |
		head -1 | cut -d: -f1) || true
	[ -n "$first" ] || first=$(($(wc -l < "$con") - 40))
	[ "$first" -gt 5 ] || first=6
	echo "# ---- $con, from line $((first - 5)) ----"
	sed -n "$((first - 5)),$((first + 60))p" "$con" | tr -d '\r' | sed 's/^/# /'
	echo "# ----"
}

# Start a kernel's VM in the background; report_vm collects it.
declare -A VMPID VMT0 VMTIMEOUT
start_vm()
{
	local label=$1 d=$OUT/$1
	rm -f "$d/console.log" "$d/results" "$d/flag" "$d/rc"
	qemu_cmd "$label"
	log "$label: booting (console: $d/console.log)"
	VMT0[$label]=$(date +%s)
	VMTIMEOUT[$label]=$KTIMEOUT
	{
		rc=0
		timeout -k 10 "$KTIMEOUT" "${QEMU[@]}" -monitor none \
			-serial file:"$d/console.log" -serial file:"$d/results" \
			-serial file:"$d/flag" < /dev/null > "$d/qemu.log" 2>&1 ||
			rc=$?
		echo "$rc $(date +%s)" > "$d/rc"
	} &
	VMPID[$label]=$!
}

report_vm()
{
	local label=$1 d=$OUT/$1 rc t1 st rest
	wait "${VMPID[$label]}" || true
	read -r rc t1 < "$d/rc" || { rc=255; t1=$(date +%s); }
	log "$label: VM ran $((t1 - VMT0[$label]))s, console: $d/console.log"
	while read -r st rest; do
		[ "$st" = not ] && { st=fail; rest=${rest#ok }; }
		tap "$st" "$label: $rest"
	done < <(tr -d '\r' < "$d/results" 2>/dev/null)
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		tap fail "$label: vm: finished within ${VMTIMEOUT[$label]}s"
	fi
	if grep -q 'Kernel panic - not syncing' "$d/console.log"; then
		tap fail "$label: vm: $(tr -d '\r' < "$d/console.log" |
			grep -o 'Kernel panic - not syncing.*' | head -1)"
	fi
	if tr -d '\r' < "$d/flag" 2>/dev/null | grep -qx success; then
		tap ok "$label: vm: success flag"
	else
		tap fail "$label: vm: success flag"
		[ -s "$d/qemu.log" ] && sed 's/^/# qemu: /' "$d/qemu.log"
		echo "# console log: $d/console.log"
		show_splat "$d/console.log"
	fi
}

# Host-side checks: each script in host-tests prints TAP lines.  They run
# while the VMs boot; report_host_tests collects them.
# The compat probes' own check (tools/compat-test.sh) takes the kernel
# trees that this run built for the host: HOST_KDIRS, and MAINLINE_KDIR
# for the in-tree kernel, whose probes mainline.h must match.
HOST_KDIRS=""
MAINLINE_KDIR=""
start_host_tests()
{
	local h
	: > "$OUT/host-tests.out"
	{
		for h in $(sed 's/#.*//' "$VM/host-tests" 2>/dev/null); do
			[ -x "$WSP_TREE/$h" ] ||
				{ log "no $h in $WSP_TREE"; continue; }
			WSP_TREE="$WSP_TREE" "$WSP_TREE/$h" ||
				echo "not ok 0 $h exited with status $?"
		done
		if [ -n "$HOST_KDIRS" ] && [ -x "$WSP_TREE/tools/compat-test.sh" ]; then
			WSP_TREE="$WSP_TREE" MAINLINE_KDIR="$MAINLINE_KDIR" \
				"$WSP_TREE/tools/compat-test.sh" $HOST_KDIRS ||
				echo "not ok 0 compat-test.sh exited with status $?"
		fi
	} >> "$OUT/host-tests.out" 2>&1 &
	HOSTPID=$!
}

# relabel LABEL FILE: a script's TAP lines, renumbered into ours.
relabel()
{
	local line
	while read -r line; do
		case $line in
		"ok "*) tap ok "$1: ${line#ok [0-9]* }" ;;
		"not ok "*) tap fail "$1: ${line#not ok [0-9]* }" ;;
		*) echo "# $1: $line" ;;
		esac
	done < "$2"
}

report_host_tests()
{
	wait $HOSTPID || true
	relabel host "$OUT/host-tests.out"
}

# The distribution path per suite: tools/dkms-test.sh against each stock
# kernel's headers, on the host for bookworm and in the chroot for the
# others.  Runs in the background with the VMs; report_dkms collects it.
declare -A DKMS_KVER
start_dkms()
{
	local label
	for label in "${!DKMS_KVER[@]}"; do
		: > "$OUT/$label/dkms.out"
	done
	for label in "${!DKMS_KVER[@]}"; do
		if [ -n "$(suite_of "$label")" ]; then
			in_chroot "$(suite_of "$label")" "$OUT/$label/tree" \
				env WSP_TREE=/build /build/tools/dkms-test.sh \
				"${DKMS_KVER[$label]}"
		else
			WSP_TREE="$OUT/$label/tree" "$WSP_TREE"/tools/dkms-test.sh \
				"${DKMS_KVER[$label]}"
		fi > "$OUT/$label/dkms.out" 2>&1 ||
			echo "not ok 0 dkms-test.sh exited with status $?" \
				>> "$OUT/$label/dkms.out"
	done &
	DKMSPID=$!
}

report_dkms()
{
	local label
	wait $DKMSPID || true
	for label in "${!DKMS_KVER[@]}"; do
		relabel "$label" "$OUT/$label/dkms.out"
	done
}

# The chroots and sid's source download are mostly waiting on the
# network and the disk: start them while the first kernel compiles.
# Everything they do is behind the same locks that prepare_kernel takes.
prefetch()
{
	local label suites=""
	for label in $KERNELS; do
		case " $suites " in
		*" $(suite_of "$label") "*) ;;
		*) suites="$suites $(suite_of "$label")" ;;
		esac
	done
	for label in $suites; do
		if [ "$label" = sid ] && [[ " $KERNELS " = *" debug-7.x "* ]]; then
			extract_source7
		else
			prepare_suite "$label"
		fi > "$OUT/prefetch-$label.log" 2>&1 &
	done
}

check()
{
	local label started="" warn
	for label in $KERNELS; do
		case " $ALL_KERNELS " in
		*" $label "*) ;;
		*) die "unknown kernel '$label' (have: $ALL_KERNELS)" ;;
		esac
	done
	apt_install $PKGS
	mkdir -p "$OUT"
	prefetch
	extract_source
	log "building the selftests"
	if ! build_selftests > "$OUT/selftests.log" 2>&1; then
		tail -30 "$OUT/selftests.log" | sed 's/^/# /'
		tap fail "selftests: build (log: $OUT/selftests.log)"
		mkdir -p "$OUT/selftests" && : > "$OUT/selftests/list"
	fi
	# Build for every kernel, then run all the VMs at once: they spend
	# much of their time asleep in tests.
	for label in $KERNELS; do
		mkdir -p "$OUT/$label"
		log "$label: kernel"
		if ! prepare_kernel "$label" > "$OUT/$label/kernel.log" 2>&1; then
			sed 's/^/# /' "$OUT/$label/kernel.log"
			tap fail "$label: kernel build"
			continue
		fi
		log "$label: wsp.ko"
		if ! build_module "$label"; then
			tail -30 "$OUT/$label/compat.txt" "$OUT/$label/build.log" \
				2>/dev/null | sed 's/^/# /'
			tap fail "$label: build wsp.ko (log: $OUT/$label/build.log)"
			continue
		fi
		sed "s/^/# $label: /" "$OUT/$label/compat.txt"
		tap ok "$label: build wsp.ko"
		warn=$(build_warnings "$label")
		if [ -z "$warn" ]; then
			tap ok "$label: W=1 build without warnings"
		else
			echo "$warn" | sed 's/^/# /'
			tap fail "$label: W=1 build without warnings"
		fi
		case $label in
		stock-*) DKMS_KVER[$label]=${KDIR##*/linux-headers-} ;;
		esac
		case $label in
		debug-6.1 | stock-6.1) HOST_KDIRS="$HOST_KDIRS $KDIR" ;;
		debug-7.x) MAINLINE_KDIR=$KDIR ;;
		esac
		make_initrd "$label" "$VM_MODE"
		start_vm "$label"
		started="$started $label"
	done
	if [ "$VM_MODE" = check ]; then
		start_dkms
		start_host_tests
		report_host_tests
		report_dkms
	fi
	for label in $started; do
		report_vm "$label"
	done
	echo "$PASSED passed, $FAILED failed"
	[ $FAILED = 0 ] && [ $N -gt 0 ]
}

# "make fuzz": only wsp_fuzz, for long, on the debug kernels; then the
# VM's usual checks (rmmod, kmemleak, lockdep, splats).  FUZZ_ARGS are
# wsp_fuzz's arguments.
fuzz()
{
	KERNELS=${FUZZ_KERNELS:-debug-6.1 debug-7.x}
	VM_MODE=fuzz
	TEST_TIMEOUT=$((FUZZ_SECONDS + 300))
	DEBUG_TIMEOUT=$((FUZZ_SECONDS + 600))
	check
}

vm()
{
	local label=${KERNEL:-debug-6.1}
	apt_install $PKGS
	extract_source
	mkdir -p "$OUT/$label"
	build_selftests > "$OUT/selftests.log" 2>&1 ||
		{ cat "$OUT/selftests.log"; die "selftests do not build"; }
	prepare_kernel "$label"
	build_module "$label" || { cat "$OUT/$label/build.log"; die "wsp.ko does not build"; }
	make_initrd "$label" shell
	qemu_cmd "$label"
	"${QEMU[@]}" -serial mon:stdio -serial null -serial null
}

# "make demo": boot $KERNEL (default stock-6.1) with wsp.ko and run
# tools/wspcat/demo.sh in it; the transcript comes out on ttyS1.
demo()
{
	local label=${KERNEL:-stock-6.1} st qpid
	apt_install $PKGS
	OUT=$OUT/demo
	st=$OUT/selftests
	rm -rf "$st" && mkdir -p "$st" "$OUT/$label"
	make -s -C "$WSP_TREE/tools/wspcat" OUTPUT="$st" vmtests > /dev/null ||
		die "wspcat does not build"
	: > "$st/list"
	log "preparing $label and wsp.ko"
	prepare_kernel "$label" > "$OUT/$label/kernel.log" 2>&1 ||
		{ cat "$OUT/$label/kernel.log"; die "no kernel"; }
	build_module "$label" ||
		{ cat "$OUT/$label/build.log"; die "wsp.ko does not build"; }
	make_initrd "$label" demo
	qemu_cmd "$label"
	log "booting $label (console: $OUT/$label/console.log)"
	: > "$OUT/$label/demo.log"
	timeout -k 10 300 "${QEMU[@]}" -monitor none \
		-serial file:"$OUT/$label/console.log" \
		-serial file:"$OUT/$label/demo.log" -serial null \
		< /dev/null > "$OUT/$label/qemu.log" 2>&1 &
	qpid=$!
	tail -n +1 -f --pid=$qpid "$OUT/$label/demo.log" | tr -d '\r' |
		grep --line-buffered -v '^ok vm: '
	wait $qpid || true
	grep -q '^=== The end' "$OUT/$label/demo.log" && return 0
	tail -40 "$OUT/$label/console.log" | sed 's/^/# /'
	die "the demo did not finish"
}

style()
{
	local f kfiles="" ufiles="" rc=0
	apt_install perl $SRC_PKG
	extract_source
	for f in "$WSP_TREE"/net/wsp/*.[ch] "$WSP_TREE"/include/uapi/linux/wsp.h; do
		case $f in *.mod.c) continue ;; esac	# generated by modpost
		[ -f "$f" ] && kfiles="$kfiles $f"
	done
	for f in "$WSP_TREE"/selftests/wsp/*.[ch] "$VM"/*.c \
		 "$WSP_TREE"/tools/lib/wsp/*.[ch] \
		 "$WSP_TREE"/tools/lib/wsp/tests/*.[ch] \
		 "$WSP_TREE"/tools/wspcat/*.[ch]; do
		[ -f "$f" ] && ufiles="$ufiles $f"
	done
	"$SRC"/scripts/checkpatch.pl --no-tree -f $kfiles || rc=1
	# Userspace tests: "volatile sig_atomic_t" is what C requires of a
	# signal flag, and the harness macros check sscanf's return value.
	"$SRC"/scripts/checkpatch.pl --no-tree --ignore VOLATILE,NAKED_SSCANF \
		-f $ufiles || rc=1
	return $rc
}

sparse()
{
	local label=debug-6.1 out
	apt_install $PKGS sparse
	extract_source
	prepare_kernel $label
	OUT=$OUT/sparse
	mkdir -p "$OUT/$label"
	build_module $label || { cat "$OUT/$label/build.log"; exit 1; }
	out=$(make -C "$OUT/$label/tree" KDIR="$KDIR" C=2 2>&1) ||
		{ echo "$out"; exit 1; }
	echo "$out" | grep -v '^make\|^  \(CHECK\|CC\|LD\|MODPOST\)' || true
	! echo "$out" | grep -q ': \(warning\|error\):'
}

# bash reads a script as it runs it: "exit" on the dispatcher's last line
# keeps a run going while run.sh is being edited.  (tools/bench/vm.sh
# sources everything above this line.)
case ${1:-check} in
check)	check ;;
fuzz)	fuzz ;;
vm)	vm ;;
demo)	demo ;;
style)	style ;;
sparse)	sparse ;;
packages) echo $PKGS sparse ;;
kernel)	apt_install $PKGS && prepare_kernel "${KERNEL:-debug-6.1}" &&
	echo "$KDIR" ;;
*)	die "usage: run.sh check|fuzz|vm|demo|style|sparse|packages" ;;
esac; exit $?
