#!/usr/bin/env bash
# ceph-s3.sh — throw-away, single-node S3 server for tests and CI.
#
# Ceph RADOS Gateway 16.2 from Debian 12 (bookworm): 1 mon + 1 OSD (memstore: objects
# live in the OSD's RAM) + radosgw (beast), all on 127.0.0.1, no cephx, a private
# cluster name and a private state directory. Nothing under /etc is written.
# Must run as root (installs packages with apt-get when they are missing).
#
#   bash tooling/s3/ceph-s3.sh start > /tmp/s3.env && . /tmp/s3.env
#   bash tooling/s3/ceph-s3.sh env      # print the env again (exit 1 if not running)
#   bash tooling/s3/ceph-s3.sh status   # exit 0 if running and answering
#   bash tooling/s3/ceph-s3.sh stop     # stop the daemons, delete all state
#
# stdout carries only `export ...` lines; progress and errors go to stderr.
# Prefer the `> file && . file` form: `eval "$(... start)"` hides a failed start.
# Overrides: CEPH_S3_PORT CEPH_S3_MON_PORT CEPH_S3_OSD_PORTS CEPH_S3_ACCESS_KEY
#   CEPH_S3_SECRET_KEY CEPH_S3_BUCKET ("" = create none) CEPH_S3_DIR
#   CEPH_S3_STORE (memstore | bluestore) CEPH_S3_CAPACITY_BYTES
set -euo pipefail

DIR=${CEPH_S3_DIR:-/tmp/ceph-s3}
PORT=${CEPH_S3_PORT:-7480}
MON_PORT=${CEPH_S3_MON_PORT:-13300}
OSD_PORTS=${CEPH_S3_OSD_PORTS:-16800-16899}
ACCESS_KEY=${CEPH_S3_ACCESS_KEY:-testaccesskey}
SECRET_KEY=${CEPH_S3_SECRET_KEY:-testsecretkey}
BUCKET=${CEPH_S3_BUCKET-test-bucket}
STORE=${CEPH_S3_STORE:-memstore}
CAPACITY=${CEPH_S3_CAPACITY_BYTES:-4294967296}
CL=cephs3                       # private cluster name
CONF=$DIR/$CL.conf              # every daemon we start has "-c $CONF" on its command line
ENDPOINT=http://127.0.0.1:$PORT
DAEMONS="client.rgw.a osd.0 mon.a"
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

log() { echo "[ceph-s3] $*" >&2; }
die() { log "error: $*"; exit 1; }
ceph_() { timeout 30 ceph --cluster "$CL" -c "$CONF" "$@"; }
http_code() { curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$ENDPOINT/" 2>/dev/null || true; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {
  cat <<EOF
export S3_ENDPOINT=$ENDPOINT
export S3_REGION=us-east-1
export S3_ACCESS_KEY_ID=$ACCESS_KEY
export S3_SECRET_ACCESS_KEY=$SECRET_KEY
export S3_BUCKET=$BUCKET
export S3_FORCE_PATH_STYLE=true
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
EOF
}

# A pid is ours only if it is live (not a zombie) and was started with our $CONF.
ours() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "-c $CONF "
}

# All live processes started with our $CONF (daemons and any hung ceph CLI calls),
# found via /proc so that orphans whose pid files are gone are found too.
our_pids() {
  local f p
  for f in /proc/[0-9]*; do
    p=${f#/proc/}
    [ "$p" != "$$" ] && ours "$p" && echo "$p"
  done
  return 0
}

stop() {
  local pids left p
  pids=$(our_pids)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    # SIGTERM, then SIGKILL after 1 s: rgw and the OSD take 4-5 s to exit gracefully once
    # the mon is gone, and all state is thrown away anyway. Then wait until they are gone
    # (zombies count as gone: their sockets are closed), so a restart finds the ports free.
    for i in $(seq 1 40); do
      left=""; for p in $pids; do ours "$p" && left="$left $p"; done
      [ -z "$left" ] && break
      # shellcheck disable=SC2086
      [ "$i" = 4 ] && { kill -9 $left 2>/dev/null || true; }
      sleep 0.25
    done
    [ -z "$left" ] || log "warning: processes still alive after SIGKILL:$left"
  fi
  rm -rf "$DIR"
  log "stopped"
}

healthy() {
  local p d
  [ -f "$DIR/ready" ] || return 1
  for d in $DAEMONS; do
    p=$(cat "$DIR/run/$CL-$d.pid" 2>/dev/null) && ours "$p" || return 1
  done
  command -v curl >/dev/null && [ "$(http_code)" = 200 ]
}

have_bins() {
  local b
  for b in radosgw radosgw-admin ceph-mon ceph-osd ceph ceph-authtool monmaptool curl timeout awk; do
    command -v "$b" >/dev/null || return 1
  done
}

install() {
  have_bins && return 0
  [ "$(id -u)" = 0 ] || die "packages missing and not root; run as root (apt-get install radosgw ceph-mon ceph-osd curl)"
  command -v apt-get >/dev/null || die "apt-get not found; this script targets Debian 12 (bookworm)"
  local t0=$SECONDS n
  log "installing radosgw ceph-mon ceph-osd curl with apt-get (one-off, ~15-20 s)"
  export DEBIAN_FRONTEND=noninteractive
  local opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
  local alog=$DIR-apt.log     # apt's chatter goes here; its tail is shown on failure
  : >"$alog"
  for n in 1 2 3; do
    apt-get "${opts[@]}" update -qq >>"$alog" 2>&1 && break
    tail -n 20 "$alog" >&2
    [ "$n" = 3 ] && die "apt-get update failed (full log: $alog)"
    log "apt-get update failed, retrying ($n)"; sleep $((n * 5))
  done
  for n in 1 2 3; do
    apt-get "${opts[@]}" install -y -qq --no-install-recommends \
      radosgw ceph-mon ceph-osd curl ca-certificates >>"$alog" 2>&1 && break
    tail -n 20 "$alog" >&2
    [ "$n" = 3 ] && die "apt-get install failed (full log: $alog)"
    log "apt-get install failed, retrying ($n)"; sleep $((n * 5))
  done
  have_bins || die "packages installed but a ceph binary is still missing from PATH"
  log "installed in $((SECONDS - t0))s"
}

store_conf() {
  case $STORE in
    memstore) printf '%s\n' "osd objectstore = memstore" "memstore device bytes = $CAPACITY" ;;
    bluestore) printf '%s\n' "osd objectstore = bluestore" "bluestore block path = $DIR/block.osd.0" \
      "bluestore block create = true" "bluestore block size = $CAPACITY" \
      "bluestore block db create = false" "bluestore block wal create = false" \
      "osd memory target = 939524096" ;;
  esac
}

on_fail() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  log "start failed (rc=$rc); last log lines:"
  tail -n 15 "$DIR"/log/*.log >&2 2>/dev/null || true
  stop
  exit "$rc"
}

# wait_for SECONDS CMD...: poll every 0.25 s until CMD succeeds
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.25
  done
}
osd_up() { ceph_ osd stat 2>/dev/null | grep -q ' 1 up'; }
rgw_up() { [ "$(http_code)" = 200 ]; }

start() {
  local t_start=$SECONDS
  case $STORE in memstore|bluestore) ;; *) log "CEPH_S3_STORE must be memstore or bluestore"; exit 2 ;; esac
  install
  if healthy; then log "already running at $ENDPOINT"; print_env; return 0; fi
  [ "$(id -u)" = 0 ] || die "run as root"
  if [ -d "$DIR" ] || [ -n "$(our_pids)" ]; then log "cleaning stale state in $DIR"; stop; fi
  local p
  for p in "$PORT" "$MON_PORT"; do
    port_busy "$p" && die "127.0.0.1:$p is already in use by another process (set CEPH_S3_PORT / CEPH_S3_MON_PORT)"
  done

  local t0=$SECONDS fsid osd_uuid
  mkdir -p "$DIR"/{mon.a,osd.0,rgw,run,log}
  trap on_fail EXIT
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat > "$CONF" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
ms bind port min = ${OSD_PORTS%-*}
ms bind port max = ${OSD_PORTS#*-}
auth cluster required = none
auth service required = none
auth client required = none
# with auth none, radosgw otherwise insists on a secure mon connection and fails
ms mon client mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$cluster-\$name.asok
pid file = $DIR/run/\$cluster-\$name.pid
log file = $DIR/log/\$cluster-\$name.log
keyring = $DIR/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
[mon]
mon data = $DIR/mon.\$id
# fast paxos: ~2 s start instead of ~15 s
paxos propose interval = 0.1
paxos min wait = 0.01
[osd]
osd data = $DIR/osd.\$id
$(store_conf)
[client.rgw.a]
# tcp_nodelay: without it every GET takes ~45 ms
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw data = $DIR/rgw
# reclaim deleted/overwritten objects' data within seconds (default: after 2 h); otherwise tests that
# write and delete large objects fill the memstore OSD, which then blocks every write (failsafe full)
rgw gc obj min wait = 5
rgw gc processor period = 10
EOF
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon --cluster "$CL" -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >>"$DIR/log/setup.log" 2>&1
  ceph-mon --cluster "$CL" -c "$CONF" -i a </dev/null >>"$DIR/log/setup.log" 2>&1
  log "mon up ($((SECONDS - t0))s)"
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  ceph_ osd new "$osd_uuid" >/dev/null 2>>"$DIR/log/setup.log"
  ceph-osd --cluster "$CL" -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/setup.log" 2>&1
  ceph-osd --cluster "$CL" -c "$CONF" -i 0 </dev/null >>"$DIR/log/setup.log" 2>&1
  wait_for 60 osd_up || die "osd did not come up; see $DIR/log"
  log "osd up ($((SECONDS - t0))s)"
  radosgw --cluster "$CL" -c "$CONF" -n client.rgw.a </dev/null >>"$DIR/log/setup.log" 2>&1
  wait_for 120 rgw_up || die "radosgw did not answer on $ENDPOINT; see $DIR/log"
  log "radosgw up ($((SECONDS - t0))s)"
  timeout 60 radosgw-admin --cluster "$CL" -c "$CONF" user create --uid=test --display-name=test \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>>"$DIR/log/setup.log"
  if [ -n "$BUCKET" ]; then
    # curl's sigv4 is rejected by RGW unless x-amz-content-sha256 is sent explicitly
    local code
    code=$(curl -s -o "$DIR/log/create-bucket.out" --max-time 60 -w '%{http_code}' -X PUT \
      --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
      -H "x-amz-content-sha256: $EMPTY_SHA256" "$ENDPOINT/$BUCKET") || true
    case $code in
      200|409) ;;
      *) log "create bucket failed: HTTP $code"; cat "$DIR/log/create-bucket.out" >&2 2>/dev/null || true; exit 1 ;;
    esac
  fi
  touch "$DIR/ready"
  trap - EXIT
  log "ready at $ENDPOINT in $((SECONDS - t0))s (total $((SECONDS - t_start))s; $STORE; state and logs in $DIR)"
  print_env
}

# start and stop of one instance (one $DIR) run one at a time: two test files may start the
# same private server at once, and each would otherwise find the other's half-made state
# "stale" and delete it. The lock sits beside $DIR (stop deletes $DIR); flock -o keeps it
# out of the daemons start leaves running, so it is released when this script exits.
locked() {
  if [ -z "${CEPH_S3_LOCKED:-}" ]; then
    command -v flock >/dev/null || die "flock (util-linux) is needed"
    CEPH_S3_LOCKED=1 exec flock -o -w 900 "${DIR%/}.lock" bash "${BASH_SOURCE[0]}" "$@"
  fi
}

case ${1:-start} in
  start) locked start; start ;;
  stop) locked stop; stop ;;
  env) healthy || { log "not running"; exit 1; }; print_env ;;
  status) if healthy; then log "running at $ENDPOINT"; else log "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
