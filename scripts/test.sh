#!/usr/bin/env bash
# The test command of the README: sets up what the tests need on this machine (Debian
# packages, PostgreSQL, a MinIO server built from the Go module proxy, a SoftHSM2 token),
# runs go vet and the linters (scripts/lint.sh) and every test with the race detector. Integration tests whose service could not be set
# up are skipped and say why. Usage: scripts/test.sh [go test flags/packages]
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
log() { printf '== %s\n' "$*" >&2; }

# 1. Debian packages used as independent checkers and test services.
pkgs=(poppler-utils qpdf libnss3-tools softhsm2 opensc openssl chromium chromium-driver)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/tmp/chungthuc-apt.log 2>&1 \
      || log "apt-get failed (see /tmp/chungthuc-apt.log); tests that need ${missing[*]} will skip"
  else
    log "not root: cannot install ${missing[*]}; tests that need them will skip"
  fi
fi

# 2. PostgreSQL: start it if it is installed but down; a fresh database per run.
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  export CHUNGTHUC_TEST_DATABASE_URL=${CHUNGTHUC_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
else
  log "PostgreSQL is not reachable on 127.0.0.1:5432: its integration tests will skip"
fi

# 3. MinIO (built once into .tools/, started on loopback for this run).
if [ -x scripts/minio.sh ]; then
  if out=$(scripts/minio.sh start 2>/tmp/chungthuc-minio.log); then
    eval "$out"
    trap 'scripts/minio.sh stop >/dev/null 2>&1 || true' EXIT
  else
    log "MinIO could not be started (see /tmp/chungthuc-minio.log): S3 integration tests will skip"
  fi
fi

# 3b. axe-core (from npm, into .tools/) for the browser test's accessibility checks.
if command -v npm >/dev/null 2>&1 && axe=$(scripts/axe.sh 2>/tmp/chungthuc-axe.log); then
  export CHUNGTHUC_AXE_JS="$axe"
else
  log "axe-core could not be fetched (see /tmp/chungthuc-axe.log): TestBrowserPages will skip"
fi

# 4. The linters (gofmt, go mod tidy -diff, staticcheck, errcheck): any finding fails.
log "go vet"
go vet ./... || exit 1
log "linters"
scripts/lint.sh || exit 1

# 5. The tests.
log "go test -race"
go test -race -count=1 -timeout 60m "${@:-./...}"
