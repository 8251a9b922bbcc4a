#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": build wspbench and wsp.ko, boot Debian's stock kernel in
# QEMU at -smp 1 with the module loaded, run every workload there, print
# the table and write it to bench/results/<date>-stock-6.1.txt and
# bench/results/latest.txt.
#
# The kernel fetching, the module build and the QEMU command line are
# selftests/vm/run.sh's: its functions are sourced (everything above its
# command dispatcher), so the bench boots exactly what "make check" boots.
#
# Environment: BENCH_ICOUNT (QEMU -icount, default shift=3,sleep=off),
# WSPBENCH_ARGS (wspbench arguments, default "-r 3 -d 0.5"),
# BENCH_TIMEOUT (seconds, default 1500), BENCH_MEM (MiB, default 2048),
# BENCH_RESULTS (directory, default bench/results; "none" writes nothing),
# BENCH_REV (commit to measure, default HEAD; "worktree": WSP_TREE as is)
# and run.sh's WSP_TREE, WSP_CACHE, WSP_OUT.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/common.sh
source "$BENCH/common.sh"
VM=$(dirname "$BENCH_HARNESS")
REPO=$(cd "$VM/../.." && pwd)
OUT=${WSP_OUT:-$WSP_TREE/out}/bench
LABEL=stock-6.1
ARGS=${WSPBENCH_ARGS:--r 3 -d 0.5}
TMO=${BENCH_TIMEOUT:-1500}
RESULTS=${BENCH_RESULTS:-$REPO/bench/results}
D=$OUT/$LABEL
bench_tree

log "bench: packages"
apt_install make gcc libc6-dev cpio gzip kmod rsync busybox-static \
	qemu-system-x86 libelf-dev bc bison flex
mkdir -p "$D"
log "bench: building wspbench"
make -s -C "$BENCH" OUTPUT="$OUT" >&2
bench_kernel $LABEL

# The initramfs: busybox, our init, wspbench, wsp.ko and its dependencies.
bench_rootfs $LABEL "$BENCH/init"
cp "$OUT/wspbench" "$ROOTFS/wspbench"
echo "WSPBENCH_ARGS='$ARGS'" > "$ROOTFS/etc/wspbench.conf"
bench_pack $LABEL

# One CPU, and room for 65,536 pending sockets.
bench_qemu $LABEL
for i in "${!QEMU[@]}"; do
	[ "${QEMU[$i]}" = -m ] && QEMU[i + 1]=${BENCH_MEM:-2048}
done
# Guest time from the instruction count (2^3 = 8 ns per instruction, about
# TCG's real speed here; idle time skipped): the other VMs sharing the
# host's cores then cannot stretch one measurement and not the next, and
# repetitions agree to 0.1%.  It counts instructions, not cache or TLB
# misses.  BENCH_ICOUNT="" measures host wall-clock time instead.
ICOUNT=${BENCH_ICOUNT-shift=3,sleep=off}
[ -n "$ICOUNT" ] && QEMU+=(-icount "$ICOUNT")

rm -f "$D/console.log" "$D/results" "$D/flag"
: > "$D/results"
log "bench: booting $LABEL at -smp 1 (console: $D/console.log, timeout ${TMO}s)"
t0=$(date +%s)
rc=0
timeout -k 10 "$TMO" "${QEMU[@]}" -monitor none \
	-serial file:"$D/console.log" -serial file:"$D/results" \
	-serial file:"$D/flag" < /dev/null > "$D/qemu.log" 2>&1 &
qpid=$!
# Progress: wspbench's lines as they arrive on ttyS1, until QEMU exits.
tail -n +1 -s 2 --pid=$qpid -f "$D/results" |
	sed -u -n 's/\r$//; /^\(# \|K \)/p' >&2 || true
wait $qpid || rc=$?
log "bench: VM ran $(($(date +%s) - t0))s (qemu status $rc)"

tr -d '\r' < "$D/results" > "$D/results.txt"
if ! tr -d '\r' < "$D/flag" 2>/dev/null | grep -qx success; then
	echo "bench: the run did not complete; console $D/console.log" >&2
	tail -40 "$D/console.log" | tr -d '\r' >&2
	exit 1
fi

grep -q '^== results' "$D/results.txt" ||
	{ echo "bench: no results table in $D/results.txt" >&2; exit 1; }
kver=$(sed -n 's/^K kernel //p' "$D/results.txt" | head -1)
cpu=$(sed -n 's/^K cpus //p' "$D/results.txt" | head -1)
day=$(date -u +%Y-%m-%d)
{
	echo "AF_WSP benchmark (make bench), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel:  $LABEL, $kver"
	echo "machine: QEMU TCG (no KVM), -smp 1, ${ICOUNT:+-icount $ICOUNT, }cpu: $cpu"
	echo "tree:    $TREE_DESC"
	echo "wspbench $ARGS"
	if [ -n "$ICOUNT" ]; then
		echo "Time is QEMU's instruction count (-icount): absolute figures are"
		echo "those of a CPU that takes 2^shift ns per instruction, with no caches;"
	else
		echo "Time is host wall-clock time under TCG, on cores shared with other"
		echo "jobs: absolute figures mean little and vary from run to run;"
	fi
	echo "the ratios, all from this one VM run, are what the targets judge."
	sed -n '/^== results/,$p' "$D/results.txt" | grep -v '^# \|^K \|^R '
	echo
	echo "== profile notes (from the same run) =="
	# One line of each kind: the last repetition's.
	grep '^# \(connrate.*breakdown\|scale: [0-9]* pending in\|scale: [0-9]* bound\|scale: torn\|memory .*by cache\)' \
		"$D/results.txt" | sed 's/^# //' |
		awk '{ k = $1 " " $2 " " ($1 == "scale:" ? $4 : $3)
		       if (!(k in line)) order[n++] = k; line[k] = $0 }
		     END { for (i = 0; i < n; i++) print line[order[i]] }'
} > "$D/table.txt"
echo
cat "$D/table.txt"
if [ "$RESULTS" != none ]; then
	mkdir -p "$RESULTS"
	if [ -n "$ICOUNT" ]; then
		cp "$D/table.txt" "$RESULTS/$day-$LABEL.txt"
		cp "$D/table.txt" "$RESULTS/latest.txt"
		log "bench: wrote $RESULTS/$day-$LABEL.txt and latest.txt"
	else
		# Wall-clock runs are a cross-check, never "latest".
		cp "$D/table.txt" "$RESULTS/$day-$LABEL-wallclock.txt"
		log "bench: wrote $RESULTS/$day-$LABEL-wallclock.txt"
	fi
fi
