#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench/trace: the instructions of two traced calls, by function.
#   account.py KALLSYMS BASE.txt OTHER.txt
# Each .txt holds one instruction address per line; KALLSYMS is the
# guest's text symbols.  Addresses outside every symbol (a BPF program's
# JIT image) count as "(no symbol)".
import bisect
import collections
import sys

syms = []
for line in open(sys.argv[1]):
    f = line.split()
    syms.append((int(f[0], 16), f[2] + (" " + f[3] if len(f) > 3 else "")))
syms.sort()
starts = [a for a, _ in syms]


def function(pc):
    i = bisect.bisect_right(starts, pc) - 1
    # No kernel function is 64 KiB long: further off, it is not in one.
    if i < 0 or pc - starts[i] > 0x10000:
        return "(no symbol)"
    return syms[i][1]


def count(path):
    return collections.Counter(function(int(line, 16)) for line in open(path))


a, b = count(sys.argv[2]), count(sys.argv[3])
print("%-44s %7s %7s %7s" % ("function", "first", "second", "diff"))
for k in sorted(set(a) | set(b), key=lambda k: (a[k] - b[k], k)):
    if a[k] != b[k]:
        print("%-44s %7d %7d %+7d" % (k, a[k], b[k], b[k] - a[k]))
ta, tb = sum(a.values()), sum(b.values())
print("%-44s %7d %7d %+7d   (%.3fx)" % ("total", ta, tb, tb - ta, tb / ta))
