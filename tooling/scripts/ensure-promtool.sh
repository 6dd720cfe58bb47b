#!/usr/bin/env bash
# Prints the path of promtool (Prometheus' rule and metrics checker; Debian's
# prometheus package ships it, installed when missing). Used by
# apps/cli/test/slos-doc.test.ts.
exec bash "$(dirname "$0")/ensure-apt-tool.sh" promtool prometheus
