#!/usr/bin/env bash
# corpus-extract.sh — rebuild verify/testdata/corpus/<id>.pdf from bare git mirrors of the
# source repositories, by the repository, commit and path recorded in MANIFEST.tsv, and
# check each file's SHA-256 against the manifest.
#
# Usage: scripts/corpus-extract.sh [--check] [MIRRORS]
#   MIRRORS  directory holding one bare git directory per repository, named
#            <owner>+<name>/repo (the layout of the search tool's `fetch`), or <owner>+<name>.git
#            (default: /work/.mirror)
#   --check  do not write anything: only report files that differ from their source
#
# To get a mirror without the search tool: git clone --bare https://github.com/OWNER/NAME
# MIRRORS/OWNER+NAME.git (then `git fetch origin COMMIT` if the commit is not on a branch).
# Exit status: 0 when every entry was extracted (or matches), 1 otherwise.
set -euo pipefail

check=0
if [[ "${1:-}" == "--check" ]]; then
	check=1
	shift
fi
mirrors=${1:-/work/.mirror}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/verify/testdata/corpus
manifest=$dir/MANIFEST.tsv

fail=0
n=0
while IFS=$'\t' read -r id source repo commit path sha rest; do
	[[ -z "$id" || "$id" == \#* || "$id" == id ]] && continue
	n=$((n + 1))
	key=${repo/\//+}
	git_dir=""
	for cand in "$mirrors/$key/repo" "$mirrors/$key.git" "$mirrors/$key"; do
		if git --git-dir="$cand" rev-parse --git-dir >/dev/null 2>&1; then
			git_dir=$cand
			break
		fi
	done
	if [[ -z "$git_dir" ]]; then
		echo "$id: no mirror of $repo under $mirrors" >&2
		fail=1
		continue
	fi
	tmp=$(mktemp)
	if ! git --git-dir="$git_dir" show "$commit:$path" >"$tmp" 2>/dev/null; then
		echo "$id: $repo has no $path at $commit (or the blob is absent from the mirror)" >&2
		rm -f "$tmp"
		fail=1
		continue
	fi
	got=$(sha256sum "$tmp" | cut -d' ' -f1)
	if [[ "$got" != "$sha" ]]; then
		echo "$id: $repo $commit:$path has SHA-256 $got, the manifest says $sha" >&2
		rm -f "$tmp"
		fail=1
		continue
	fi
	out=$dir/$id.pdf
	if [[ $check == 1 ]]; then
		if ! cmp -s "$tmp" "$out"; then
			echo "$id: $out differs from $repo $commit:$path" >&2
			fail=1
		fi
		rm -f "$tmp"
	else
		mkdir -p "$(dirname "$out")"
		mv "$tmp" "$out"
	fi
done <"$manifest"
echo "$n manifest entries, $( ((fail)) && echo 'with errors' || echo 'all match their source')"
exit $fail
