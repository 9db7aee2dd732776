#!/usr/bin/env bash
# lint.sh — the linters CI runs (scripts/test.sh calls this): gofmt, go mod tidy -diff,
# staticcheck and errcheck. Any finding exits non-zero.
#
# staticcheck and errcheck are installed at the pinned versions below into .tools/bin
# (built from the Go module proxy the first time, reused afterwards; .tools/ is not in git).
# errcheck skips _test.go files and uses the reviewed exclusion list
# scripts/errcheck-exclude.txt, where every line says why its errors carry nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
log() { printf '== %s\n' "$*" >&2; }

STATICCHECK_VERSION=v0.8.2 # honnef.co/go/tools
ERRCHECK_VERSION=v1.30.0   # github.com/kisielk/errcheck

# tool NAME PACKAGE MODULE VERSION: build NAME into .tools/bin unless it is there at VERSION.
tool() {
	local name=$1 pkg=$2 mod=$3 version=$4 bin="$root/.tools/bin/$1"
	if [ -x "$bin" ] && [ "$(go version -m "$bin" 2>/dev/null | awk -v m="$mod" '$1 == "mod" && $2 == m { print $3 }')" = "$version" ]; then
		return 0
	fi
	log "installing $name $version into .tools/bin"
	mkdir -p "$root/.tools/bin"
	GOBIN="$root/.tools/bin" go install "$pkg@$version"
}
tool staticcheck honnef.co/go/tools/cmd/staticcheck honnef.co/go/tools "$STATICCHECK_VERSION" || exit 1
tool errcheck github.com/kisielk/errcheck github.com/kisielk/errcheck "$ERRCHECK_VERSION" || exit 1

failed=0
log "gofmt"
if out=$(gofmt -l . | grep -v '^\.tools/'); [ -n "$out" ]; then
	printf 'not gofmt-ed:\n%s\n' "$out"
	failed=1
fi
log "go mod tidy -diff"
go mod tidy -diff || failed=1
log "staticcheck"
"$root/.tools/bin/staticcheck" ./... || failed=1
log "errcheck"
"$root/.tools/bin/errcheck" -ignoretests -exclude scripts/errcheck-exclude.txt ./... || failed=1
if [ "$failed" != 0 ]; then
	log "lint: findings above"
fi
exit "$failed"
