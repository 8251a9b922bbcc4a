#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The AF_WSP test harness: build the kernels, the module and the tests, boot
# every kernel in QEMU and report one TAP line per test.  See README here.
#
#   run.sh check            every kernel in $KERNELS (default: all)
#   run.sh vm               interactive VM for $KERNEL, wsp.ko loaded
#   run.sh demo             the wspcat scene (tools/wspcat/demo.sh) in a VM
#   run.sh style            checkpatch (from linux-source) over our sources
#   run.sh sparse           sparse (C=2) over the module, debug kernel
#   run.sh packages         print the Debian packages the harness needs
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
ALL_KERNELS="debug-6.1 stock-6.1"
KERNELS=${KERNELS:-$ALL_KERNELS}
SRC_PKG=linux-source-6.1
SRC=$CACHE/src/$SRC_PKG
TEST_TIMEOUT=${TEST_TIMEOUT:-300}	# per kselftest binary, in the guest

log() { echo "# $(date +%T) $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 2; }

# --- packages ---------------------------------------------------------------

PKGS="make gcc libc6-dev bc bison flex libelf-dev libssl-dev perl python3
      cpio gzip xz-utils kmod rsync busybox-static qemu-system-x86 dkms
      $SRC_PKG"

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

# The ABI of bookworm's current stock kernel, e.g. 6.1.0-56.
stock_abi()
{
	apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-headers-\(.*\)-amd64$/\1/p' | head -1
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

# The debug kernel is keyed by the source version and the config fragments.
debug_kdir()
{
	local key
	key=$({ echo recipe=1; cat "$SRC.version" \
		"$VM"/config/base.config "$VM"/config/debug.config; } |
		sha256sum | cut -c1-16)
	echo "$CACHE/kernels/debug-6.1-$key"
}

build_debug_kernel()
{
	local o=$1 frag=("$VM"/config/base.config "$VM"/config/debug.config)
	[ -f "$o/.wsp-built" ] && return 0
	mkdir -p "$CACHE/kernels"
	(
		flock 9
		[ -f "$o/.wsp-built" ] && exit 0
		log "building the debug kernel in $o (log: $o.log)"
		{
			make -C "$SRC" O="$o" allnoconfig &&
			"$SRC"/scripts/kconfig/merge_config.sh -m -O "$o" \
				"$o/.config" "${frag[@]}" &&
			make -C "$SRC" O="$o" olddefconfig
		} > "$o.log" 2>&1 || { tail -30 "$o.log"; exit 1; }
		# A symbol that Kconfig silently dropped would make the run
		# lie about what it checks: refuse.
		grep -h '^CONFIG_.*=y$' "${frag[@]}" | while read -r opt; do
			grep -qx "$opt" "$o/.config" ||
				{ echo "config fragment: $opt did not stick"; exit 1; }
		done
		make -C "$SRC" O="$o" -j"$JOBS" bzImage modules >> "$o.log" 2>&1 ||
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

# Fills KIMAGE, KDIR, KMODS (modules tree for dependencies, or empty),
# KDEBUG and KTIMEOUT for a kernel label, building or fetching as needed.
prepare_kernel()
{
	case $1 in
	debug-6.1)
		extract_source || return 1
		KDIR=$(debug_kdir)
		build_debug_kernel "$KDIR" || return 1
		KIMAGE=$KDIR/arch/x86/boot/bzImage
		KMODS=""
		KDEBUG=1
		KTIMEOUT=${DEBUG_TIMEOUT:-1200}
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
		KTIMEOUT=${STOCK_TIMEOUT:-600}
		;;
	*)
		die "unknown kernel '$1' (have: $ALL_KERNELS)"
		;;
	esac
}

# --- module and tests -------------------------------------------------------

# Each kernel gets its own copy of the tree: compat.h differs per kernel.
build_module()
{
	local label=$1 tree=$OUT/$1/tree
	mkdir -p "$tree"
	if [ "$(cat "$OUT/$label/kdir" 2>/dev/null)" != "$KDIR" ]; then
		rm -rf "$tree" && mkdir -p "$tree"
		echo "$KDIR" > "$OUT/$label/kdir"
	fi
	rsync -a --delete --exclude=/.git --exclude=/out \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude=modules.order \
		--exclude=Module.symvers --exclude=net/wsp/compat/compat.h \
		"$WSP_TREE/" "$tree/"
	make -C "$tree" KDIR="$KDIR" > "$OUT/$label/build.log" 2>&1 &&
		[ -f "$tree/net/wsp/wsp.ko" ]
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
	echo vm_smoke > "$st/list"
	# Suites kept elsewhere: each directory listed in extra-tests installs
	# its programs here ("make vmtests OUTPUT=dir") and prints the names of
	# those to run.
	for d in $(sed 's/#.*//' "$VM/extra-tests" 2>/dev/null); do
		[ -d "$WSP_TREE/$d" ] || { log "no $d in $WSP_TREE"; continue; }
		make -s -C "$WSP_TREE/$d" OUTPUT="$st" vmtests >> "$st/list" ||
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
	EOF
	(cd "$r" && find . | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 > "$OUT/$label/initrd.cpio.gz"
}

qemu_cmd()
{
	local label=$1
	# panic_on_warn on both kernels: a WARN, KASAN or UBSAN report stops
	# the VM at once, so it can never be lost in a long log.
	QEMU=(qemu-system-x86_64 -machine q35 -cpu max -smp 2 -m 768
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
start_host_tests()
{
	local h
	: > "$OUT/host-tests.out"
	for h in $(sed 's/#.*//' "$VM/host-tests" 2>/dev/null); do
		[ -x "$WSP_TREE/$h" ] || { log "no $h in $WSP_TREE"; continue; }
		WSP_TREE="$WSP_TREE" "$WSP_TREE/$h" >> "$OUT/host-tests.out" 2>&1 ||
			echo "not ok 0 $h exited with status $?" >> "$OUT/host-tests.out"
	done &
	HOSTPID=$!
}

report_host_tests()
{
	local line
	wait $HOSTPID || true
	while read -r line; do
		case $line in
		"ok "*) tap ok "host: ${line#ok [0-9]* }" ;;
		"not ok "*) tap fail "host: ${line#not ok [0-9]* }" ;;
		*) echo "# $line" ;;
		esac
	done < "$OUT/host-tests.out"
}

check()
{
	local label started=""
	for label in $KERNELS; do
		case " $ALL_KERNELS " in
		*" $label "*) ;;
		*) die "unknown kernel '$label' (have: $ALL_KERNELS)" ;;
		esac
	done
	apt_install $PKGS
	extract_source
	mkdir -p "$OUT"
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
			tail -30 "$OUT/$label/build.log" | sed 's/^/# /'
			tap fail "$label: build wsp.ko (log: $OUT/$label/build.log)"
			continue
		fi
		make_initrd "$label" check
		start_vm "$label"
		started="$started $label"
	done
	start_host_tests
	report_host_tests
	for label in $started; do
		report_vm "$label"
	done
	echo "$PASSED passed, $FAILED failed"
	[ $FAILED = 0 ] && [ $N -gt 0 ]
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
	for f in "$WSP_TREE"/selftests/wsp/*.[ch] "$VM"/*.c; do
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
vm)	vm ;;
demo)	demo ;;
style)	style ;;
sparse)	sparse ;;
packages) echo $PKGS sparse ;;
*)	die "usage: run.sh check|vm|demo|style|sparse|packages" ;;
esac; exit $?
