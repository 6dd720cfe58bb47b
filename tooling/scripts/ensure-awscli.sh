#!/usr/bin/env bash
# Prints the path of the `aws` CLI (Debian's awscli, installed when missing).
# Used by apps/cli/test/production-s3-doc.test.ts: the tutorial's `aws s3`
# commands run against the test S3 server.
exec bash "$(dirname "$0")/ensure-apt-tool.sh" aws awscli
