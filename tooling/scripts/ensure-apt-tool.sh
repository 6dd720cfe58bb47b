#!/usr/bin/env bash
# Prints the path of a command the test suites need, installing the Debian
# package that ships it when it is missing (needs root and apt-get on a fresh
# machine). Idempotent: does nothing when the command is on PATH.
#   bash tooling/scripts/ensure-apt-tool.sh <command> <debian-package> [--with-recommends]
# The ensure-*.sh scripts beside this one name the tool each suite uses.
set -euo pipefail

tool=${1:?usage: ensure-apt-tool.sh <command> <debian-package> [--with-recommends]}
package=${2:?usage: ensure-apt-tool.sh <command> <debian-package> [--with-recommends]}
recommends=--no-install-recommends
[ "${3:-}" = --with-recommends ] && recommends=

if p=$(command -v "$tool"); then echo "$p"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "$tool missing and not root: apt-get install $package (Debian) or put $tool on PATH" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "$tool missing and apt-get not found: install it ($package on Debian) and put it on PATH" >&2; exit 1; }

echo "installing $package with apt-get (first run only)" >&2
export DEBIAN_FRONTEND=noninteractive
opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Package postinst scripts may enable a service; with no init system nothing is started.
for n in 1 2 3; do
  # shellcheck disable=SC2086 # $recommends is one flag or nothing
  if apt-get "${opts[@]}" install -y -qq $recommends "$package" >>"$log" 2>&1; then break; fi
  # A fresh machine has no package lists yet.
  apt-get "${opts[@]}" update -qq >>"$log" 2>&1 || true
  if [ "$n" = 3 ]; then tail -n 20 "$log" >&2; echo "apt-get install $package failed" >&2; exit 1; fi
  sleep $((n * 5))
done
command -v "$tool" || { echo "$package installed but $tool is not on PATH" >&2; exit 1; }
