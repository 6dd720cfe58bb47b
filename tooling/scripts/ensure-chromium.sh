#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the report's browser tests
# (apps/cli/test/report-browser.test.ts drives it with playwright-core, which
# downloads no browser). Idempotent: does nothing when /usr/bin/chromium exists.
# Installs with apt-get when running as root; otherwise says what to run.
set -euo pipefail
CHROMIUM="${RECSYS_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing ($CHROMIUM): run as root: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing ($CHROMIUM) and apt-get is not available: install Chromium and set RECSYS_CHROMIUM to its path" >&2
  exit 1
fi
echo "installing chromium with apt-get (first run only)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
test -x "$CHROMIUM"
