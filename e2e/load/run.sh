#!/usr/bin/env bash
# Starts one server on a random loopback port, runs quire-load against it
# with the given flags, then stops the server. Exit status is quire-load's.
#
#   e2e/load/run.sh quire       [quire-load flags…]
#   e2e/load/run.sh y-websocket [quire-load flags…]   # reference: y-websocket@1.5.4 bin/server.js
#
# QUIRE_BIN and LOAD_BIN name prebuilt binaries (default: go build into a
# temporary folder). QUIRE_ARGS adds server flags; WS_PATH=/hocuspocus (with
# -protocol hocuspocus) drives Quire's Hocuspocus endpoint. SERVER_LOG names a file
# to keep the server's log in. The y-websocket server
# needs `npm ci` in e2e/load first. Quire runs in a fresh temporary folder,
# so its data starts empty and is removed afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kind=${1:?usage: run.sh quire|y-websocket [quire-load flags…]}
shift
tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ -n "${SERVER_LOG:-}" ] && [ -f "$tmp/server.log" ]; then
		cp "$tmp/server.log" "$SERVER_LOG"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${LOAD_BIN:-}" ]; then
	LOAD_BIN=$tmp/quire-load
	(cd "$root" && go build -o "$LOAD_BIN" ./cmd/quire-load)
fi
case $kind in
quire)
	if [ -z "${QUIRE_BIN:-}" ]; then
		QUIRE_BIN=$tmp/quire
		(cd "$root" && go build -o "$QUIRE_BIN" ./cmd/quire)
	fi
	# shellcheck disable=SC2086 # QUIRE_ARGS is a list of flags
	(cd "$tmp" && exec "$QUIRE_BIN" --addr 127.0.0.1:0 ${QUIRE_ARGS:-}) >"$tmp/server.log" 2>&1 &
	pid=$!
	;;
y-websocket)
	(cd "$root/e2e/load" && HOST=127.0.0.1 PORT=0 exec node ref-server.cjs) >"$tmp/server.log" 2>&1 &
	pid=$!
	;;
*)
	echo "run.sh: unknown server '$kind' (quire or y-websocket)" >&2
	exit 2
	;;
esac

addr=
for _ in $(seq 200); do
	addr=$(grep -m1 listening "$tmp/server.log" | grep -oE '127\.0\.0\.1:[0-9]+' | head -1 || true)
	[ -n "$addr" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then break; fi
	sleep 0.1
done
if [ -z "$addr" ]; then
	echo "run.sh: $kind did not report a listening address; its log:" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi

status=0
"$LOAD_BIN" -url "ws://$addr${WS_PATH:-/ws}" -server-pid "$pid" -label "$kind" "$@" || status=$?
if ! kill -0 "$pid" 2>/dev/null; then
	echo "run.sh: $kind exited during the run; its log:" >&2
	tail -50 "$tmp/server.log" >&2
	status=1
fi
exit $status
