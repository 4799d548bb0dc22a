#!/usr/bin/env bash
# Starts or stops a local Redis broker for `optic pipeline --transport redis`.
#   scripts/brokers/redis.sh start [--port 6379] [--dir ${TMPDIR:-/tmp}/optic-redis-6379] [--fsync everysec|always|no]
#   scripts/brokers/redis.sh stop  [--port 6379] [--dir ${TMPDIR:-/tmp}/optic-redis-6379] [--wipe]
#   scripts/brokers/redis.sh status [--port 6379]
# The server listens on 127.0.0.1 only and writes its pid file, log and append-only file (AOF,
# appendonly yes; no RDB snapshots) into --dir, so streams, consumer groups and pending entries
# survive a restart: `stop` (SHUTDOWN) and start again lose nothing. --fsync sets appendfsync:
# everysec (default) fsyncs once a second, so a crash of the server or the machine can lose the
# last second of writes (the pipeline's driver sends overdue crops again after reconnecting);
# always fsyncs before every reply (nothing acknowledged is lost, each write costs an fsync);
# no leaves it to the kernel. stop --wipe removes the data dir. `start` returns once the server
# answers PING (readiness check, 10 s at most) and prints the address to pass as --broker. Needs
# redis-server and redis-cli (Debian package redis-server; scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."

action=${1:-}
shift || true
port=6379
dir=
fsync=everysec
wipe=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --fsync) fsync=$2; shift 2 ;;
    --wipe) wipe=1; shift ;;
    *) echo "redis.sh: unknown argument '$1' (expected --port N, --dir DIR, --fsync MODE or --wipe)" >&2; exit 2 ;;
  esac
done
case "$port" in ''|*[!0-9]*) echo "redis.sh: --port '$port' is not a number" >&2; exit 2 ;; esac
case "$fsync" in everysec|always|no) ;; *) echo "redis.sh: --fsync '$fsync': expected everysec, always or no" >&2; exit 2 ;; esac
dir=${dir:-${TMPDIR:-/tmp}/optic-redis-$port}

for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "redis.sh: $tool not found (apt-get install redis-server, or run scripts/setup.sh)" >&2; exit 1; }
done

ping() { [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; }

case "$action" in
  start)
    if ping; then echo "redis.sh: a server already answers on 127.0.0.1:$port"; echo "redis://127.0.0.1:$port"; exit 0; fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly yes \
      --appendfsync "$fsync" \
      --protected-mode yes >/dev/null
    for _ in $(seq 100); do
      if ping; then echo "redis://127.0.0.1:$port"; exit 0; fi
      sleep 0.1
    done
    echo "redis.sh: redis-server on port $port did not answer PING within 10 s; its log, $dir/redis.log:" >&2
    tail -5 "$dir/redis.log" >&2 || true
    exit 1
    ;;
  stop)
    # SHUTDOWN flushes and fsyncs the append-only file before the server exits.
    if ping; then redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true; fi
    for _ in $(seq 50); do
      if ! ping; then
        rm -f "$dir/redis.pid"
        if [ "$wipe" = 1 ]; then rm -rf "$dir"; fi
        echo "redis.sh: stopped 127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "redis.sh: the server on port $port is still running" >&2
    exit 1
    ;;
  status)
    if ping; then echo "redis://127.0.0.1:$port up"; else echo "127.0.0.1:$port down"; exit 1; fi
    ;;
  *)
    echo "usage: scripts/brokers/redis.sh start|stop|status [--port N] [--dir DIR]" >&2
    exit 2
    ;;
esac
