# SPDX-License-Identifier: GPL-2.0
#
# Sourced by tools/bench/vm.sh and tools/bench/trace/trace.sh: run.sh's
# functions, so that both boot exactly what "make check" boots, and the
# steps they share.  Everything above run.sh's command dispatcher is taken;
# with the dispatcher, sourcing would run a check.

BENCH_HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../selftests/vm" && pwd)/run.sh
grep -q '^case \${1:-check} in$' "$BENCH_HARNESS" ||
	{ echo "${0##*/}: cannot find run.sh's dispatcher to cut it off" >&2; exit 2; }
# shellcheck source=/dev/null
source <(sed '/^case \${1:-check} in$/,$d' "$BENCH_HARNESS")

# The module under test: commit $BENCH_REV (default HEAD) exported from
# WSP_TREE into $OUT/src, so that edits in progress in a shared working
# tree neither break the build nor blur what the results describe;
# BENCH_REV=worktree takes WSP_TREE as it is.  Sets TREE_DESC.
bench_tree()
{
	local rev=${BENCH_REV:-HEAD}

	if [ "$rev" = worktree ]; then
		TREE_DESC="$(git -C "$WSP_TREE" describe --always --dirty 2>/dev/null || echo unknown) (working tree)"
		return
	fi
	TREE_DESC=$(git -C "$WSP_TREE" rev-parse --short "$rev") ||
		die "no commit $rev in $WSP_TREE"
	rm -rf "$OUT/src" && mkdir -p "$OUT/src"
	# -m: files dated now, not at their commit.  The build tree keeps
	# its objects between runs, and make would take those of a later
	# commit for an earlier one's, which is older than they are.
	git -C "$WSP_TREE" archive "$rev" | tar -x -m -C "$OUT/src"
	WSP_TREE=$OUT/src
}

# The stock kernel LABEL and wsp.ko built against it, logs in $OUT/LABEL.
bench_kernel()
{
	local label=$1 d=$OUT/$1

	mkdir -p "$d"
	log "${0##*/}: preparing the $label kernel (log: $d/kernel.log)"
	prepare_kernel "$label" > "$d/kernel.log" 2>&1 ||
		{ cat "$d/kernel.log"; die "cannot prepare $label"; }
	log "${0##*/}: building wsp.ko against $KDIR"
	build_module "$label" ||
		{ tail -30 "$d/build.log"; die "wsp.ko does not build"; }
}

# An initramfs in $OUT/LABEL/initramfs with busybox, INIT as /init and
# wsp.ko with the modules it needs; the caller adds its files to $ROOTFS,
# then packs it with bench_pack LABEL.
bench_rootfs()
{
	local label=$1 init=$2

	ROOTFS=$OUT/$label/initramfs
	rm -rf "$ROOTFS" && mkdir -p "$ROOTFS"/{bin,etc,lib/modules}
	cp /bin/busybox "$ROOTFS/bin/busybox"
	cp "$init" "$ROOTFS/init"
	cp "$OUT/$label/tree/net/wsp/wsp.ko" "$ROOTFS/lib/modules/"
	copy_module_deps "$ROOTFS"
}

bench_pack()
{
	(cd "$ROOTFS" && find . | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 > "$OUT/$1/initrd.cpio.gz"
}

# run.sh's QEMU command line for LABEL with one CPU: the targets are
# single-CPU ratios, and a trace follows one CPU.  APPEND is the index of
# the kernel command line in QEMU.
bench_qemu()
{
	local i

	qemu_cmd "$1"
	for i in "${!QEMU[@]}"; do
		case ${QEMU[$i]} in
		-smp) QEMU[i + 1]=1 ;;
		-append) APPEND=$((i + 1)) ;;
		esac
	done
}
