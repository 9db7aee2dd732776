#!/usr/bin/env bash
# axe.sh — fetch axe-core (the accessibility checker) from npm into .tools/axe, once, and
# print the path of axe.min.js. The browser test (cmd/chungthuc TestBrowserPages) injects it
# into every page it walks; set CHUNGTHUC_AXE_JS to that path (scripts/test.sh style):
#
#   export CHUNGTHUC_AXE_JS="$(scripts/axe.sh)"
#
# axe-core is a test dependency only; nothing of it is served or embedded.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AXE_VERSION=4.14.1
DIR="$REPO/.tools/axe"
JS="$DIR/package/axe.min.js"
if [[ ! -f "$JS" ]] || ! grep -q "\"version\": \"$AXE_VERSION\"" "$DIR/package/package.json"; then
	mkdir -p "$DIR"
	rm -rf "$DIR/package"
	(cd "$DIR" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null && tar xzf "axe-core-$AXE_VERSION.tgz")
fi
echo "$JS"
