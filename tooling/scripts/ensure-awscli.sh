#!/usr/bin/env bash
# Prints the path of the `aws` CLI, installing Debian's `awscli` package when it
# is missing. Used by apps/cli/test/production-s3-doc.test.ts (the tutorial's
# `aws s3` commands run against the test S3 server); needs root and apt-get on a
# fresh machine. Idempotent: does nothing when `aws` is on PATH.
set -euo pipefail

if p=$(command -v aws); then echo "$p"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "aws CLI missing and not root: apt-get install awscli (Debian) or put aws on PATH" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "aws CLI missing and apt-get not found: install the AWS CLI and put it on PATH" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for n in 1 2 3; do
  if apt-get "${opts[@]}" install -y -qq --no-install-recommends awscli >>"$log" 2>&1; then break; fi
  # A fresh machine has no package lists yet.
  apt-get "${opts[@]}" update -qq >>"$log" 2>&1 || true
  if [ "$n" = 3 ]; then tail -n 20 "$log" >&2; echo "apt-get install awscli failed" >&2; exit 1; fi
  sleep $((n * 5))
done
command -v aws || { echo "awscli installed but aws is not on PATH" >&2; exit 1; }
