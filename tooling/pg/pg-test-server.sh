#!/usr/bin/env bash
# pg-test-server.sh — throw-away PostgreSQL server for tests, benchmarks and CI.
#
# Debian's `postgresql` (15 on Debian 12), installed with apt-get when missing. A
# private cluster: `initdb` into a temp directory as the `postgres` user (never root),
# listening on 127.0.0.1 only, on a non-default port, with a password (scram) so the
# tests can check that DSN passwords never leak. Durability is off (fsync,
# synchronous_commit, full_page_writes): all state is thrown away anyway. Nothing under
# /etc is written and the distribution's own cluster (if any) is not touched.
#
#   bash tooling/pg/pg-test-server.sh start > /tmp/pg.env && . /tmp/pg.env
#   bash tooling/pg/pg-test-server.sh env      # print the env again (exit 1 if not running)
#   bash tooling/pg/pg-test-server.sh status   # exit 0 if running and answering
#   bash tooling/pg/pg-test-server.sh stop     # stop the server, delete all state
#
# stdout carries only `export ...` lines (PG_TEST_DSN and PG_TEST_PORT);
# progress and errors go to stderr. start is idempotent and serialised with flock,
# so concurrent test suites share one server.
# Overrides: PG_TEST_PORT (default 55432) PG_TEST_DIR (default /tmp/recsys-pg-test)
#   PG_TEST_PASSWORD (default pgtest-secret)
set -euo pipefail

DIR=${PG_TEST_DIR:-/tmp/recsys-pg-test}
PORT=${PG_TEST_PORT:-55432}
PASSWORD=${PG_TEST_PASSWORD:-pgtest-secret}
DATA=$DIR/data
LOCK=$DIR.lock

log() { echo "[pg-test] $*" >&2; }
die() { log "error: $*"; exit 1; }

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
  [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

print_env() {
  cat <<EOF
export PG_TEST_DSN=postgres://postgres:$PASSWORD@127.0.0.1:$PORT/postgres
export PG_TEST_PORT=$PORT
EOF
}

# Runs a command as the cluster owner: initdb and postgres refuse to run as root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  bindir >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "PostgreSQL is missing and we are not root; run as root (apt-get install postgresql)"
  command -v apt-get >/dev/null || die "apt-get not found; this script targets Debian 12 (bookworm)"
  local t0=$SECONDS n alog=$DIR-apt.log
  log "installing postgresql with apt-get (one-off)"
  export DEBIAN_FRONTEND=noninteractive
  local opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
  : >"$alog"
  for n in 1 2 3; do
    apt-get "${opts[@]}" update -qq >>"$alog" 2>&1 && break
    tail -n 20 "$alog" >&2
    [ "$n" = 3 ] && die "apt-get update failed (full log: $alog)"
    sleep $((n * 5))
  done
  for n in 1 2 3; do
    apt-get "${opts[@]}" install -y -qq --no-install-recommends postgresql >>"$alog" 2>&1 && break
    tail -n 20 "$alog" >&2
    [ "$n" = 3 ] && die "apt-get install failed (full log: $alog)"
    sleep $((n * 5))
  done
  bindir >/dev/null || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb"
  log "installed in $((SECONDS - t0))s"
}

healthy() {
  local bin
  bin=$(bindir) || return 1
  [ -f "$DIR/ready" ] || return 1
  as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 1
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1
}

stop() {
  local bin
  if bin=$(bindir) && [ -d "$DATA" ]; then
    as_owner "$bin/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  log "stopped"
}

start() {
  local t0=$SECONDS bin
  install
  bin=$(bindir)
  if healthy; then log "already running on 127.0.0.1:$PORT"; print_env; return 0; fi
  if [ -d "$DIR" ]; then log "cleaning stale state in $DIR"; stop; fi
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "127.0.0.1:$PORT is already in use by another process (set PG_TEST_PORT)"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
  as_owner bash -c "umask 077 && printf '%s\n' \"\$1\" > \"\$2/pwfile\"" _ "$PASSWORD" "$DIR"
  as_owner "$bin/initdb" -D "$DATA" -U postgres --pwfile="$DIR/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 || { tail -n 20 "$DIR/initdb.log" >&2; die "initdb failed"; }
  rm -f "$DIR/pwfile"
  as_owner "$bin/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB" \
    >/dev/null 2>&1 9>&- || { tail -n 20 "$DIR/server.log" >&2; die "server did not start"; }
  touch "$DIR/ready"
  log "ready on 127.0.0.1:$PORT in $((SECONDS - t0))s (PostgreSQL $("$bin/postgres" --version | awk '{print $3}'); state and log in $DIR)"
  print_env
}

# The server is started with the lock's fd closed (9>&-), or it would hold the lock for its lifetime.
with_lock() {
  mkdir -p "$(dirname "$LOCK")"
  exec 9>"$LOCK"
  flock -w 600 9 || die "timed out waiting for $LOCK"
  "$@"
}

case ${1:-start} in
  start) with_lock start ;;
  stop) with_lock stop ;;
  env) healthy || { log "not running"; exit 1; }; print_env ;;
  status) if healthy; then log "running on 127.0.0.1:$PORT"; else log "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
