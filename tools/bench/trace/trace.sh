#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench-trace": where a connect refused by a listener's program spends
# the instructions that one refused for want of a listener does not.
# Boots Debian's stock 6.1 kernel as make bench does (one CPU, no KASLR),
# single-steps one warm connect() of each kind under gdb through QEMU's
# gdbstub, from __x64_sys_connect to its return, and prints both
# instruction counts and their difference by function.  make bench's
# "refused by filter / no listener" ratio is the same two paths plus the
# syscall entry and exit, timed by instruction count.
#
# Environment: BENCH_REV (commit to trace, default HEAD; "worktree":
# WSP_TREE as is), TRACE_PORT (gdbstub port, default 1234), and run.sh's
# WSP_TREE, WSP_CACHE, WSP_OUT.
set -euo pipefail

TRACE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/common.sh
source "$TRACE/../common.sh"
OUT=${WSP_OUT:-$WSP_TREE/out}/trace
LABEL=stock-6.1
D=$OUT/$LABEL
PORT=${TRACE_PORT:-1234}
bench_tree

log "trace: packages"
apt_install make gcc libc6-dev cpio gzip kmod rsync busybox-static \
	qemu-system-x86 libelf-dev bc bison flex gdb python3
bench_kernel $LABEL
bench_rootfs $LABEL "$TRACE/init"
gcc -O2 -Wall -static -I"$WSP_TREE/include/uapi" -o "$ROOTFS/refused" \
	"$TRACE/refused.c"
bench_pack $LABEL
bench_qemu $LABEL

log "trace: boot 1, the guest's symbols"
SYMS=("${QEMU[@]}")
SYMS[APPEND]+=" dumpsyms"
timeout -k 10 300 "${SYMS[@]}" -monitor none -serial file:"$D/console1.log" \
	-serial file:"$D/kallsyms" < /dev/null > "$D/qemu1.log" 2>&1 ||
	die "the symbol boot failed: $D/console1.log"
tr -d '\r' < "$D/kallsyms" > "$D/kallsyms.txt"
BP=$(awk '$3 == "__x64_sys_connect" { print $1 }' "$D/kallsyms.txt")
[ -n "$BP" ] || die "no __x64_sys_connect in the guest's symbols"

# Calls 1 to 4 find no listener, 5 to 8 the filter (refused.c); the
# last of each is warm.
log "trace: boot 2, single-stepping connect() (console: $D/console2.log)"
rm -f "$D"/call*.txt
timeout -k 10 600 "${QEMU[@]}" -monitor none -serial file:"$D/console2.log" \
	-gdb tcp:127.0.0.1:"$PORT" -S < /dev/null > "$D/qemu2.log" 2>&1 &
qpid=$!
TRACE_BP=$BP TRACE_HITS="4 8" TRACE_OUT=$D TRACE_PORT=$PORT \
	timeout 600 gdb -q -batch -nx -x "$TRACE/step.py" > "$D/gdb.log" 2>&1 ||
	{ kill $qpid 2>/dev/null; tail "$D/gdb.log"; die "gdb failed"; }
wait $qpid || true
[ -s "$D/call4.txt" ] && [ -s "$D/call8.txt" ] ||
	{ tail "$D/gdb.log"; die "no trace"; }

{
	echo "AF_WSP instruction trace (make bench-trace), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel: $LABEL, $(sed -n 's/.*Linux version \([^ ]*\).*/\1/p' "$D/console1.log" | head -1)"
	echo "tree:   $TREE_DESC"
	echo "One warm connect() from __x64_sys_connect to its return: first"
	echo "refused with no listener bound, second refused by the listener's"
	echo "one-instruction program."
	echo
	python3 "$TRACE/account.py" "$D/kallsyms.txt" "$D/call4.txt" "$D/call8.txt"
} | tee "$D/report.txt"
