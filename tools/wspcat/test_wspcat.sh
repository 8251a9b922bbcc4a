#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# wspcat's policies, prompts and error messages, as root with wsp.ko
# loaded.  Prints kselftest TAP.  WSPCAT overrides the binary (default:
# wspcat next to this script).

DIR=$(cd "$(dirname "$0")" && pwd)
WSPCAT=${WSPCAT:-$DIR/wspcat}
T=$(mktemp -d /tmp/wspcat.XXXXXX)
N=0
FAIL=0
PORT=7100
PIDS=""

trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT

ok()
{
	N=$((N + 1))
	echo "ok $N $1"
}

not_ok()
{
	N=$((N + 1))
	FAIL=$((FAIL + 1))
	echo "not ok $N $1"
	shift
	for f in "$@"; do
		[ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
	done
}

# check NAME COMMAND... [-- FILES to show on failure]
check()
{
	name=$1
	shift
	if eval "$1"; then
		ok "$name"
	else
		shift
		not_ok "$name" "$@"
	fi
}

# Wait until a socket listens on port $1.
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

# server NAME ARGS...: wspcat -l on a new port, in the background.
server()
{
	name=$1
	shift
	PORT=$((PORT + 1))
	"$WSPCAT" -l "$@" "$PORT" < /dev/null > "$T/$name.out" 2> "$T/$name.err" &
	SPID=$!
	PIDS="$PIDS $SPID"
}

# client NAME ARGS...: send "hello from NAME" to $PORT; status in $T/NAME.rc
client()
{
	name=$1
	shift
	echo "hello from $name" |
		"$WSPCAT" -v "$@" "$PORT" > "$T/$name.out" 2> "$T/$name.err"
	echo $? > "$T/$name.rc"
}

has()	# FILE TEXT
{
	grep -qF -- "$2" "$1"
}

# Wait up to 10 s until FILE holds TEXT: a server relays a client's data
# after the client may already have exited.
wait_has()	# FILE TEXT
{
	i=0
	while [ $i -lt 100 ]; do
		has "$1" "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

if [ ! -x "$WSPCAT" ]; then
	echo "1..0 # SKIP no wspcat at $WSPCAT"
	exit 4
fi
if [ ! -r /proc/net/wsp ]; then
	echo "1..0 # SKIP wsp.ko is not loaded"
	exit 4
fi

echo "TAP version 13"
echo "1..20"

# 1-2: --policy accept with --reply
server acc -p accept --reply welcome
wait_listen $PORT
client c1
wait $SPID
check "policy accept: client connects and reads the reply" \
	'[ "$(cat $T/c1.rc)" = 0 ] && has $T/c1.err "server data: \"welcome\""' \
	$T/c1.err $T/acc.err
check "policy accept: server relays the client's data" \
	'has $T/acc.out "hello from c1"' $T/acc.out $T/acc.err

# 3: --policy reject with --reject-data
server rej -p reject --reject-data "go away"
wait_listen $PORT
client c2
kill $SPID 2>/dev/null
check "policy reject: connection refused by the server: <reject data>" \
	'[ "$(cat $T/c2.rc)" = 1 ] &&
	 has $T/c2.err "connection refused by the server: go away"' \
	$T/c2.err $T/rej.err

# 4-5: --policy match:STRING
server match -p match:secret --reply yes --reject-data no -k
wait_listen $PORT
client c3 -d wrong
client c4 -d secret
kill $SPID 2>/dev/null
check "policy match: other caller data is rejected" \
	'[ "$(cat $T/c3.rc)" = 1 ] &&
	 has $T/c3.err "connection refused by the server: no"' $T/c3.err
check "policy match: matching caller data is accepted" \
	'[ "$(cat $T/c4.rc)" = 0 ] && has $T/c4.err "server data: \"yes\""' \
	$T/c4.err $T/match.err

# 6: hex caller data
server hex -p match:hex:00ff41 -k
wait_listen $PORT
client c5 -d hex:00ff41
kill $SPID 2>/dev/null
check "policy match: hex caller data" '[ "$(cat $T/c5.rc)" = 0 ]' \
	$T/c5.err $T/hex.err

# 7: no listener
PORT=$((PORT + 1))
client c6
check "no listener: readable error" \
	'[ "$(cat $T/c6.rc)" = 1 ] && has $T/c6.err "no listener on port $PORT"' \
	$T/c6.err

# 8: timeout while the server does not answer
mkfifo "$T/ans0"
server slow -c --answers "$T/ans0"
# Read-write: opening a FIFO so never blocks, so a SIGCHLD cannot
# interrupt it (busybox sh does not retry an interrupted open).
exec 3<> "$T/ans0"
wait_listen $PORT
client c7 --timeout 300
check "--timeout: timed out" \
	'[ "$(cat $T/c7.rc)" = 1 ] && has $T/c7.err "timed out"' $T/c7.err
exec 3>&-
kill $SPID 2>/dev/null

# 9-13: interactive answers: accept, reject, defer then accept
mkfifo "$T/ans"
server ask -c -k --answers "$T/ans" --reply "default reply"
exec 3<> "$T/ans"
wait_listen $PORT
printf 'accept welcome alice\nr no bob\ndefer 1\na later carol\n' >&3
client alice -d alice
client bob -d bob
client carol -d carol
exec 3>&-
wait_has $T/ask.out "hello from alice"
wait_has $T/ask.out "hello from carol"
kill $SPID 2>/dev/null
check "--conditional: accept with answer data" \
	'[ "$(cat $T/alice.rc)" = 0 ] &&
	 has $T/alice.err "server data: \"welcome alice\""' $T/alice.err $T/ask.err
check "--conditional: reject with answer data" \
	'[ "$(cat $T/bob.rc)" = 1 ] &&
	 has $T/bob.err "connection refused by the server: no bob"' $T/bob.err
check "--conditional: deferred, then accepted" \
	'[ "$(cat $T/carol.rc)" = 0 ] &&
	 has $T/carol.err "server data: \"later carol\"" &&
	 has $T/ask.err "(deferred) from port"' $T/carol.err $T/ask.err
check "--conditional: the prompt shows caller, pid, uid, gid and data" \
	'grep -q "request #[0-9]* from port [0-9]* (pid [0-9]*, uid 0, gid 0)" $T/ask.err &&
	 has $T/ask.err "caller data: \"alice\""' $T/ask.err
check "--conditional: data of accepted callers is relayed" \
	'has $T/ask.out "hello from alice" && has $T/ask.out "hello from carol" &&
	 ! has $T/ask.out "hello from bob"' $T/ask.out

# 14: QoS request and grant
server qos -p accept --grant-qos 5000:3000
wait_listen $PORT
client c8 --qos 100000:8000
wait $SPID
check "--qos/--grant-qos: the grant is in force" \
	'[ "$(cat $T/c8.rc)" = 0 ] && has $T/c8.err "send rate=5000 bucket=3000"' \
	$T/c8.err $T/qos.err

# 15: seqpacket.  The server's stdin stays open until the record is in:
# at EOF on stdin a server shuts its side, and a client that sees that
# first stops before it has sent anything (1 run in 8 failed so).
PORT=$((PORT + 1))
(sleep 3) | "$WSPCAT" -l -s "$PORT" > "$T/sp.out" 2> "$T/sp.err" &
SPID=$!
PIDS="$PIDS $SPID"
wait_listen $PORT
client c9 -s
wait $SPID
check "--seqpacket: relays a record" \
	'[ "$(cat $T/c9.rc)" = 0 ] && has $T/sp.out "hello from c9"' \
	$T/c9.err $T/sp.err

# 16: type mismatch
server st -p accept
wait_listen $PORT
client c10 -s
kill $SPID 2>/dev/null
check "type mismatch: readable error" \
	'[ "$(cat $T/c10.rc)" = 1 ] && has $T/c10.err "drop --seqpacket"' \
	$T/c10.err

# 17-20: --filter decides in the kernel; the rest goes to the policy
wsp_stat()	# NAME: a counter of /proc/net/wsp_stat
{
	awk -v n="$1" '$1 == n { print $2 }' /proc/net/wsp_stat
}
rejected0=$(wsp_stat filter_rejected)
server flt -k -p reject --reject-data "policy says no" \
	--filter deny-uid:65534,prefix:TOKN
wait_listen $PORT
client f1 -d TOKN-letmein
su -s /bin/sh nobody -c "echo hi | '$WSPCAT' $PORT" \
	> "$T/f2.out" 2> "$T/f2.err"
echo $? > "$T/f2.rc"
client f3 -d other
kill $SPID 2>/dev/null
check "--filter prefix: accepted by the kernel" \
	'[ "$(cat $T/f1.rc)" = 0 ] && has $T/flt.out "hello from f1"' \
	$T/f1.err $T/flt.err
check "--filter deny-uid: refused by the kernel, without reject data" \
	'[ "$(cat $T/f2.rc)" = 1 ] && ! has $T/f2.err "policy says no"' \
	$T/f2.err $T/flt.err
check "--filter: the rest goes to the policy" \
	'[ "$(cat $T/f3.rc)" = 1 ] && has $T/f3.err "policy says no"' \
	$T/f3.err $T/flt.err
check "--filter: the kernel counted its refusal" \
	'[ "$(wsp_stat filter_rejected)" = $((rejected0 + 1)) ]' $T/flt.err

[ $FAIL = 0 ]
