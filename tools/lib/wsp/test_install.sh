#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# Host check for "make check" (TAP): stage "make install" of libwsp, check
# what it installs, the soname and the exported symbols, then build a
# program against it through pkg-config, shared and static, and run both.
# Only functions that need no AF_WSP run: the host has no wsp.ko.
set -u
d=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
bad=0

result()	# result STATUS DESCRIPTION
{
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n libwsp: $2"
	else
		echo "not ok $n libwsp: $2"
		bad=1
	fi
}

echo "1..10"

make -s -C "$d" OUTPUT="$tmp/build" DESTDIR="$tmp/root" PREFIX=/usr \
	install > "$tmp/make.log" 2>&1
st=$?
[ $st = 0 ] || sed 's/^/# /' "$tmp/make.log"
# The library builds warning-free.
grep -E 'warning|error' "$tmp/make.log" | sed 's/^/# /'
! grep -qE 'warning|error' "$tmp/make.log" && [ $st = 0 ]
result $? "make install (staged, PREFIX=/usr)"

root=$tmp/root
lib=$root/usr/lib
missing=
for f in usr/include/libwsp.h usr/include/linux/wsp.h usr/lib/libwsp.a \
	 usr/lib/libwsp.so.1.0.0 usr/lib/libwsp.so.1 usr/lib/libwsp.so \
	 usr/lib/pkgconfig/libwsp.pc; do
	[ -e "$root/$f" ] || missing="$missing $f"
done
if [ -d "$d/man" ]; then
	for f in "$d"/man/*.3; do
		[ -e "$f" ] || continue
		[ -e "$root/usr/share/man/man3/${f##*/}" ] ||
			missing="$missing man3/${f##*/}"
	done
fi
[ -z "$missing" ] || echo "# missing:$missing"
[ -z "$missing" ] && [ -L "$lib/libwsp.so" ] && [ -L "$lib/libwsp.so.1" ] &&
	[ "$(readlink "$lib/libwsp.so")" = libwsp.so.1 ] &&
	[ "$(readlink "$lib/libwsp.so.1")" = libwsp.so.1.0.0 ]
result $? "installed files and links"

soname=$(readelf -d "$lib/libwsp.so.1.0.0" 2>/dev/null |
	 sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libwsp.so.1 ]
result $? "soname libwsp.so.1 (got '$soname')"

# Defined dynamic symbols, less the version node itself (type A).
nm -D --defined-only "$lib/libwsp.so.1.0.0" > "$tmp/syms" 2>&1
others=$(awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp/syms" |
	 grep -v '^wsp_')
nsyms=$(grep -c ' T wsp_.*@@LIBWSP_1\.0$' "$tmp/syms")
[ -n "$others" ] && echo "# exported besides wsp_*: $others"
[ -z "$others" ] && [ "$nsyms" -gt 20 ]
result $? "only wsp_* exported, versioned LIBWSP_1.0 ($nsyms symbols)"

export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR="$lib/pkgconfig"
flags=$(pkg-config --cflags --libs libwsp 2>&1)
sflags=$(pkg-config --static --cflags --libs libwsp 2>&1)
echo "# pkg-config: $flags; --static: $sflags"
case "$flags $sflags" in
*"-I$root/usr/include"*"-L$lib"*"-lwsp"*"-lpthread"*) st=0 ;;
*) st=1 ;;
esac
[ "$(pkg-config --modversion libwsp)" = 1.0.0 ] || st=1
result $st "pkg-config --cflags --libs libwsp"

cat > "$tmp/prog.c" <<'PROG'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libwsp.h>

int main(void)
{
	char buf[WSP_ADDRSTRLEN];
	struct sockaddr_wsp a, b;
	struct wsp_flowspec fs;

	wsp_make_addr(&a, 4294967295U);
	if (wsp_addr_to_str(&a, buf, sizeof(buf)) != 14 ||
	    strcmp(buf, "wsp:4294967295"))
		return 1;
	if (wsp_str_to_addr(buf, &b) || memcmp(&a, &b, sizeof(a)))
		return 2;
	if (wsp_str_to_addr("wsp:4294967296", &b) != -1 || errno != EINVAL)
		return 3;
	if (wsp_addr_to_str(&a, buf, 4) != -1 || errno != ENOSPC)
		return 4;
	wsp_flowspec_unspecified(&fs);
	if (fs.token_rate != WSP_QOS_NOT_SPECIFIED)
		return 5;
	if (LIBWSP_MAJOR != 1)
		return 6;
	puts("libwsp ok");
	return 0;
}
PROG

# Only the staged headers: none of the tree's include paths.
${CC:-cc} -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" $flags \
	> "$tmp/cc.log" 2>&1
st=$?
sed 's/^/# /' "$tmp/cc.log"
result $st "build against the shared library"

out=$(LD_LIBRARY_PATH="$lib" "$tmp/prog" 2>&1)
st=$?
[ $st = 0 ] || echo "# prog: status $st: $out"
if [ $st = 0 ]; then
	LD_LIBRARY_PATH="$lib" ldd "$tmp/prog" | grep -q "libwsp.so.1 => $lib/" ||
		{ echo "# not linked to the staged libwsp.so.1"; st=1; }
fi
result $st "run linked to libwsp.so.1"

${CC:-cc} -Wall -Werror -static -o "$tmp/prog-static" "$tmp/prog.c" $sflags \
	> "$tmp/cc.log" 2>&1
st=$?
sed 's/^/# /' "$tmp/cc.log"
result $st "build static (pkg-config --static)"

out=$("$tmp/prog-static" 2>&1)
st=$?
[ $st = 0 ] || echo "# prog-static: status $st: $out"
if [ $st = 0 ] &&
   readelf -d "$tmp/prog-static" 2>/dev/null | grep -q NEEDED; then
	echo "# prog-static has dynamic dependencies"
	st=1
fi
result $st "run static"

# And "make uninstall" takes it all away again.
make -s -C "$d" OUTPUT="$tmp/build" DESTDIR="$root" PREFIX=/usr uninstall \
	> /dev/null 2>&1
left=$(find "$root" -type f -o -type l)
[ -z "$left" ] || echo "# left after uninstall: $left"
[ -z "$left" ]
result $? "make uninstall"

exit $bad
