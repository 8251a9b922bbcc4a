# SPDX-License-Identifier: GPL-2.0
#
# gdb script for tools/bench/trace: attach to QEMU's gdbstub, stop at each
# entry of the function at $TRACE_BP, and for the calls numbered in
# $TRACE_HITS single-step until it returns, writing the address of each
# instruction to $TRACE_OUT/call<N>.txt.  QEMU steps with interrupts and
# timers masked, so the trace is that one call's and nothing else's.
import os

import gdb

bp = int(os.environ["TRACE_BP"], 16)
hits = [int(n) for n in os.environ["TRACE_HITS"].split()]
out = os.environ["TRACE_OUT"]
inferior = gdb.selected_inferior()
MASK = (1 << 64) - 1


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & MASK


def step_out(path):
    ret = int.from_bytes(inferior.read_memory(reg("rsp"), 8).tobytes(),
                         "little")
    n = 0
    with open(path, "w") as f:
        while reg("pc") != ret:
            f.write("%x\n" % reg("pc"))
            gdb.execute("stepi", to_string=True)
            n += 1
            if n > 1000000:
                raise gdb.GdbError("no return after 10^6 instructions")
    return n


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote :%s" % os.environ.get("TRACE_PORT", "1234"))
gdb.execute("hbreak *0x%x" % bp)
for n in range(1, max(hits) + 1):
    gdb.execute("continue")
    if n in hits:
        k = step_out("%s/call%d.txt" % (out, n))
        gdb.write("call %d: %d instructions\n" % (n, k))
gdb.execute("kill")
