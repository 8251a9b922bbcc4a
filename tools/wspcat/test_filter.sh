#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host check for "make check": build wspcat's --filter compiler with its
# test and run it (TAP).
set -eu
d=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -Wall -Wextra -Wno-unused-parameter -Werror -I"$d/../../include/uapi" \
	-o "$out/test_filter" "$d/test_filter.c" "$d/filter.c"
"$out/test_filter" | sed 's/^\(ok\|not ok\) [0-9]* /\1 1 wspcat --filter: /'
