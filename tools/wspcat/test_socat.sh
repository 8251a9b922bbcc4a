#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# socat's generic socket addresses against AF_WSP (family 22).  socat
# takes the address without its family field (it fills in sa_family from
# the domain): the rest of sockaddr_wsp in hex, little-endian: reserved
# u16, port u32, 8 zero bytes.  Runs Debian's socat with its own libraries from ./socat/
# (see "make vmtests").  Prints kselftest TAP.

DIR=$(cd "$(dirname "$0")" && pwd)
WSPCAT=${WSPCAT:-$DIR/wspcat}
T=$(mktemp -d /tmp/socat.XXXXXX)
N=0
FAIL=0
PIDS=""

trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT

if [ -x "$DIR/socat/socat" ]; then
	socat()
	{
		"$DIR/socat/ld-linux-x86-64.so.2" --library-path "$DIR/socat" \
			"$DIR/socat/socat" "$@"
	}
elif ! command -v socat > /dev/null; then
	echo "1..0 # SKIP socat is not available"
	exit 4
fi
if [ ! -r /proc/net/wsp ]; then
	echo "1..0 # SKIP wsp.ko is not loaded"
	exit 4
fi

# socat's hex form of the sockaddr_wsp of port $1 (as in the README).
wsp_addr()
{
	printf 'x0000%02x%02x%02x%02x0000000000000000' \
		$(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24))
}

result()	# NAME STATUS FILES...
{
	N=$((N + 1))
	if [ "$2" = 0 ]; then
		echo "ok $N $1"
		return
	fi
	FAIL=$((FAIL + 1))
	echo "not ok $N $1"
	shift 2
	for f in "$@"; do
		[ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
	done
}

wait_listen()
{
	i=0
	while [ $i -lt 100 ]; do
		awk -v p="$1" '$3 == "LISTEN" && $4 == p { f = 1 } END { exit !f }' \
			/proc/net/wsp && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

echo "TAP version 13"
echo "1..5"

# 1: socat listens, wspcat connects
A=$(wsp_addr 7000)
socat -u SOCKET-LISTEN:22:0:$A STDOUT > "$T/1.out" 2> "$T/1.err" &
PIDS="$PIDS $!"
wait_listen 7000
echo "hello socat" | "$WSPCAT" 7000 > /dev/null 2> "$T/1c.err"
wait $!
grep -qx "hello socat" "$T/1.out"
result "socat SOCKET-LISTEN accepts a wspcat client" $? "$T/1.out" "$T/1.err" "$T/1c.err"

# 2: wspcat listens (conditional, policy accept), socat connects
"$WSPCAT" -l 7001 -p accept --reply hi < /dev/null > "$T/2.out" 2> "$T/2.err" &
PIDS="$PIDS $!"
wait_listen 7001
echo "hello wspcat" | socat - SOCKET-CONNECT:22:0:$(wsp_addr 7001) \
	> /dev/null 2> "$T/2c.err"
st=$?
sleep 0.3
[ $st = 0 ] && grep -qx "hello wspcat" "$T/2.out"
result "socat SOCKET-CONNECT reaches a conditional wspcat listener" $? \
	"$T/2.out" "$T/2.err" "$T/2c.err"

# 3: socat to socat, both ways.  The client half-closes after "ping" and
# the answer comes a second later.  socat gives the other direction only
# -t (0.5 s by default) after one side's EOF, which a debug kernel under
# TCG can outlast even without the sleep; both sides wait up to 30 s
# instead and still return as soon as the server closes.
socat -t 30 SOCKET-LISTEN:22:0:$(wsp_addr 7002) \
	SYSTEM:"sleep 1; read l; echo got \$l" 2> "$T/3.err" &
PIDS="$PIDS $!"
wait_listen 7002
echo ping | socat -t 30 - SOCKET-CONNECT:22:0:$(wsp_addr 7002) \
	> "$T/3.out" 2>&1
grep -qx "got ping" "$T/3.out"
result "socat to socat over AF_WSP, both directions" $? "$T/3.out" "$T/3.err"

# 4: SEQPACKET through socat's type= option
socat -u SOCKET-LISTEN:22:0:$(wsp_addr 7003),type=5 STDOUT > "$T/4.out" \
	2> "$T/4.err" &
PIDS="$PIDS $!"
wait_listen 7003
echo "a record" | "$WSPCAT" -s 7003 > /dev/null 2> "$T/4c.err"
wait $!
grep -qx "a record" "$T/4.out"
result "socat SOCK_SEQPACKET listener (type=5)" $? "$T/4.out" "$T/4.err" "$T/4c.err"

# 5: a rejected socat client fails with "Connection refused"
"$WSPCAT" -l 7004 -p reject --reject-data no < /dev/null 2> "$T/5.err" &
PIDS="$PIDS $!"
wait_listen 7004
echo x | socat - SOCKET-CONNECT:22:0:$(wsp_addr 7004) > "$T/5.out" 2>&1
st=$?
[ $st != 0 ] && grep -q "Connection refused" "$T/5.out"
result "socat client rejected by a wspcat policy: Connection refused" $? \
	"$T/5.out" "$T/5.err"

[ $FAIL = 0 ]
