#!/usr/bin/env bash
# Prints the path of promtool (Prometheus' rule and metrics checker), installing
# Debian's `prometheus` package (which ships /usr/bin/promtool) when it is missing.
# Used by apps/cli/test/slos-doc.test.ts; needs root and apt-get on a fresh machine.
# Idempotent: does nothing when promtool is on PATH.
set -euo pipefail

if p=$(command -v promtool); then echo "$p"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "promtool missing and not root: apt-get install prometheus (Debian) or put promtool on PATH" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "promtool missing and apt-get not found: install promtool (Prometheus) and put it on PATH" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The package's postinst enables a service; with no init system nothing is started.
for n in 1 2 3; do
  if apt-get "${opts[@]}" install -y -qq --no-install-recommends prometheus >>"$log" 2>&1; then break; fi
  # A fresh machine has no package lists yet.
  apt-get "${opts[@]}" update -qq >>"$log" 2>&1 || true
  if [ "$n" = 3 ]; then tail -n 20 "$log" >&2; echo "apt-get install prometheus failed" >&2; exit 1; fi
  sleep $((n * 5))
done
command -v promtool || { echo "prometheus installed but promtool is not on PATH" >&2; exit 1; }
