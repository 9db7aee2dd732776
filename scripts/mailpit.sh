#!/usr/bin/env bash
# mailpit.sh — build the mailpit SMTP test server (github.com/axllent/mailpit) into
# .tools/bin from the Go module proxy, once (a few minutes the first time, cached after).
#
#   scripts/mailpit.sh          build if missing, print the binary's path (stdout)
#
# The e-mail tests (notify/) call this and start their own mailpit on free loopback ports;
# they skip, saying why, when it cannot be built. mailpit is a test dependency only: it is
# not linked into chungthuc.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAILPIT_VERSION=v1.33.1
BIN="$REPO/.tools/bin/mailpit"

if ! [[ -x "$BIN" ]]; then
	echo "mailpit.sh: building mailpit $MAILPIT_VERSION into .tools/bin (first time only)" >&2
	mkdir -p "$REPO/.tools/bin"
	GOBIN="$REPO/.tools/bin" GOFLAGS=-mod=mod go install "github.com/axllent/mailpit@$MAILPIT_VERSION" >&2
fi
echo "$BIN"
