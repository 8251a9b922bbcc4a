#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The AF_WSP scene for "make demo": one conditional server, three
# clients: one accepted with callee data, one rejected with reject data,
# one deferred and then accepted.  Runs as root with wsp.ko loaded.
# Usage: demo.sh [PATH_TO_WSPCAT]

WSPCAT=${1:-$(dirname "$0")/wspcat}
PORT=7000
T=$(mktemp -d /tmp/demo.XXXXXX)

say()
{
	echo
	echo "=== $*"
}

run()	# show a command, then run it
{
	echo "\$ $*"
	"$@"
}

show_proc()
{
	echo "\$ cat /proc/net/wsp"
	cat /proc/net/wsp
	echo "\$ cat /proc/net/wsp_stat"
	cat /proc/net/wsp_stat
}

# Client NAME DATA: connect with caller data, send a line, show the result.
client()
{
	echo "\$ echo 'hello, this is $1' | wspcat -v --data '$2' $PORT"
	echo "hello, this is $1" |
		"$WSPCAT" -v --data "$2" $PORT 2>&1 | awk '{ print "  [client] " $0 }'
}

echo "AF_WSP demo on $(uname -r): module wsp, family $(cat /sys/module/wsp/parameters/family)"

say "Before: no AF_WSP socket yet"
show_proc

say "A conditional server on port $PORT; the operator's answers come from a FIFO"
mkfifo "$T/answers"
echo "\$ wspcat -l $PORT --conditional -k --answers FIFO --reject-data 'not today' < /dev/null &"
{
	"$WSPCAT" -l $PORT --conditional -k --answers "$T/answers" \
		--reject-data "not today" < /dev/null 2>&1 &
	echo $! > "$T/server.pid"
	wait
} | awk '{ print "  [server] " $0; fflush() }' &
exec 3<> "$T/answers"	# read-write: the open never blocks
while ! grep -q " LISTEN $PORT " /proc/net/wsp; do
	sleep 0.1
done
sleep 0.2
show_proc

say "Client alice: the operator accepts, with callee data"
echo "  (operator answers: accept welcome, alice)"
echo "accept welcome, alice" >&3
client alice "alice: let me in"
sleep 0.3

say "Client bob: the operator rejects, with reject data"
echo "  (operator answers: reject you are not on the list, bob)"
echo "reject you are not on the list, bob" >&3
client bob "bob: hi"
sleep 0.3

say "Client carol: the operator defers her for 2 s, then accepts"
echo "  (operator answers: defer 2, later: accept sorry for the wait, carol)"
echo "defer 2" >&3
echo "accept sorry for the wait, carol" >&3
client carol "carol: anyone home?" &
CPID=$!
sleep 1
echo "  While carol waits, her request is in the listener's backlog:"
show_proc | sed 's/^/  /'
wait $CPID
sleep 0.5

say "After"
show_proc

exec 3>&-
kill "$(cat "$T/server.pid")" 2>/dev/null
wait
rm -rf "$T"
echo
echo "=== The end: alice and carol got in, bob was turned away."
