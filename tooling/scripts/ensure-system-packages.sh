#!/usr/bin/env bash
# Installs, in one apt-get call, every Debian package the test suites start or
# drive: Ceph RGW (the S3 suite), PostgreSQL (the signals/raw-source suite),
# Chromium (the report's browser tests), Prometheus' promtool (the SLO doc
# test) and the AWS CLI (the S3 tutorial's doc test). Each suite's own setup
# script installs its package when missing too; doing it here first keeps
# parallel suites from queueing on the dpkg lock on a fresh CI machine.
# Idempotent: installs only what is missing. Needs root.
set -euo pipefail

missing=()
for b in radosgw ceph-mon ceph-osd; do command -v "$b" >/dev/null || missing+=("$b"); done
command -v curl >/dev/null || missing+=(curl)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
browser=()
[ -x /usr/bin/chromium ] || browser=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
command -v aws >/dev/null || missing+=(awscli)

if [ $((${#missing[@]} + ${#browser[@]})) -eq 0 ]; then echo "system packages: all present"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "missing Debian packages (${missing[*]} ${browser[*]}) and not root: apt-get install ${missing[*]} ${browser[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
echo "system packages: installing ${missing[*]} ${browser[*]}"
for n in 1 2 3; do
  # Chromium keeps its recommended packages (fonts to render text); the servers need none.
  apt-get "${opts[@]}" update -qq \
    && { [ ${#missing[@]} -eq 0 ] || apt-get "${opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    && { [ ${#browser[@]} -eq 0 ] || apt-get "${opts[@]}" install -y -qq "${browser[@]}" >/dev/null; } \
    && break
  [ "$n" = 3 ] && { echo "apt-get install ${missing[*]} ${browser[*]} failed" >&2; exit 1; }
  sleep $((n * 5))
done
echo "system packages: done"
