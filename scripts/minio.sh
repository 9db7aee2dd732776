#!/usr/bin/env bash
# minio.sh — a throw-away MinIO server for the S3 tests.
#
#   eval "$(scripts/minio.sh)"     build MinIO once into .tools/bin (about 5 minutes the first
#                                  time), start it on 127.0.0.1 and print the
#                                  CHUNGTHUC_TEST_S3_* exports (to stdout; progress to stderr)
#   scripts/minio.sh stop          stop it and delete its data
#   scripts/minio.sh status        print the exports if it is running (exit 1 if not)
#
# Environment: MINIO_PORT (default 9000, the next free port is used when taken),
# MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (generated when unset), MINIO_WAIT (seconds to wait
# for health, default 60). State lives in .tools/minio/ (pid, env, log); data in a
# temporary directory removed by stop. MinIO is a test dependency only: it is not linked
# into chungthuc.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
BIN="$REPO/.tools/bin/minio"
STATE="$REPO/.tools/minio"
PIDFILE="$STATE/minio.pid"
ENVFILE="$STATE/minio.env"

log() { echo "minio.sh: $*" >&2; }

running() {
	[[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

port_taken() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
	local p=$1
	while port_taken "$p"; do
		p=$((p + 1))
		if ((p > $1 + 200)); then
			log "no free port from $1 to $p"
			exit 1
		fi
	done
	echo "$p"
}

random_secret() {
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

stop() {
	if ! [[ -f "$PIDFILE" ]]; then
		log "not running"
		return 0
	fi
	local pid data=""
	pid=$(cat "$PIDFILE")
	[[ -f "$ENVFILE" ]] && data=$(sed -n 's/^# data=//p' "$ENVFILE")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		log "stopped pid $pid"
	fi
	rm -f "$PIDFILE" "$ENVFILE"
	if [[ -n "$data" && "$data" == */chungthuc-minio.* ]]; then
		rm -rf "$data"
	fi
}

build() {
	if [[ -x "$BIN" ]]; then
		return
	fi
	log "building MinIO $MINIO_VERSION into $REPO/.tools/bin (about 5 minutes the first time)…"
	mkdir -p "$REPO/.tools/bin"
	(cd "$REPO" && GOBIN="$REPO/.tools/bin" GOFLAGS= go install "github.com/minio/minio@$MINIO_VERSION")
}

start() {
	if running; then
		log "already running (pid $(cat "$PIDFILE"))"
		grep '^export ' "$ENVFILE"
		return
	fi
	build
	mkdir -p "$STATE"
	local port console data user pass wait url
	port=$(free_port "${MINIO_PORT:-9000}")
	console=$(free_port $((port + 1)))
	data=$(mktemp -d "${TMPDIR:-/tmp}/chungthuc-minio.XXXXXX")
	local gen
	gen=$(random_secret)
	user=${MINIO_ROOT_USER:-chungthuc-${gen:0:8}}
	pass=${MINIO_ROOT_PASSWORD:-$(random_secret)}
	wait=${MINIO_WAIT:-60}

	MINIO_ROOT_USER=$user MINIO_ROOT_PASSWORD=$pass MINIO_BROWSER=off MINIO_UPDATE=off \
		nohup "$BIN" server "$data/data" --quiet \
		--address "127.0.0.1:$port" --console-address "127.0.0.1:$console" \
		>"$STATE/minio.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$PIDFILE"
	umask 077
	{
		echo "# data=$data"
		echo "export CHUNGTHUC_TEST_S3_ENDPOINT=127.0.0.1:$port CHUNGTHUC_TEST_S3_ACCESS_KEY=$user CHUNGTHUC_TEST_S3_SECRET_KEY=$pass"
		# Fault tests start (and freeze) MinIO processes of their own from this binary.
		echo "export CHUNGTHUC_TEST_MINIO_BIN=$BIN"
	} >"$ENVFILE"

	url="http://127.0.0.1:$port/minio/health/live"
	local deadline=$((SECONDS + wait))
	until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" == 200 ]]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "MinIO exited; its log ($STATE/minio.log):"
			tail -20 "$STATE/minio.log" >&2
			rm -f "$PIDFILE" "$ENVFILE"
			rm -rf "$data"
			exit 1
		fi
		if ((SECONDS >= deadline)); then
			log "MinIO did not become healthy within ${wait}s; stopping it"
			stop
			exit 1
		fi
		sleep 0.2
	done
	log "MinIO pid $pid listening on 127.0.0.1:$port, data in $data"
	grep '^export ' "$ENVFILE"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
status)
	if running; then grep '^export ' "$ENVFILE"; else
		log "not running"
		exit 1
	fi
	;;
build) build ;;
*)
	echo "usage: $0 [start|stop|status|build]" >&2
	exit 2
	;;
esac
