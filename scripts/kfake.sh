#!/usr/bin/env bash
# ksuite carries franz-go's kfake (the embedded broker) as the upstream module plus a small,
# ordered set of patches, each restoring one Apache Kafka behaviour and written so it could go
# upstream. third_party/kfake is what builds: a package of the ksuite module itself
# (github.com/ksuite/ksuite/third_party/kfake, upstream's go.mod dropped), so a module that
# imports ksuite's packages gets the patched broker with no replace directive of its own. The
# patches in third_party/kfake-patches/ (order: `series`) are the source of truth.
#
#   scripts/kfake.sh check        rebuild upstream + patches in a temp dir; fail unless it equals
#                                 third_party/kfake exactly (make test runs this)
#   scripts/kfake.sh apply        rewrite third_party/kfake from upstream + patches
#   scripts/kfake.sh new NAME     save what third_party/kfake changes beyond the current series
#                                 as patches/NNNN-NAME.patch and append it to the series
#
# Upstream is the module version in third_party/kfake-patches/upstream, fetched into the Go
# module cache (go mod download).
set -euo pipefail
cd "$(dirname "$0")/.."

module=github.com/twmb/franz-go/pkg/kfake
tree=third_party/kfake
patches=third_party/kfake-patches

log() { echo "kfake.sh: $*" >&2; }

upstream_dir() {
	local version
	version=$(cat "$patches/upstream")
	go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# pristine DEST: upstream's non-test sources, as ksuite carries them.
pristine() {
	local src dest=$1 f
	src=$(upstream_dir)
	[ -d "$src" ] || { log "upstream $module not in the module cache"; exit 1; }
	mkdir -p "$dest"
	for f in "$src"/*; do
		case "$(basename "$f")" in
		*_test.go | main.go | kafka_tests | run_tests.sh | CLAUDE.md | skipped_features | go.mod | go.sum) ;;
		*) cp -r "$f" "$dest/" ;;
		esac
	done
	chmod -R u+w "$dest"
}

# build DEST [UPTO]: upstream + every patch of the series (or those before UPTO).
build() {
	local dest=$1 p
	pristine "$dest"
	[ -f "$patches/series" ] || return 0
	while read -r p; do
		[ -n "$p" ] && [ "${p#\#}" = "$p" ] || continue
		patch -s -p1 -d "$dest" <"$patches/$p" || { log "patch $p does not apply"; exit 1; }
	done <"$patches/series"
}

case "${1:-}" in
check)
	tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
	build "$tmp/kfake"
	if ! diff -ru "$tmp/kfake" "$tree" >"$tmp/diff"; then
		log "third_party/kfake differs from upstream + patches; save the change with 'scripts/kfake.sh new NAME':"
		head -n 40 "$tmp/diff" >&2
		exit 1
	fi
	log "third_party/kfake = upstream + $(grep -cv '^#' "$patches/series" 2>/dev/null || true) patches"
	;;
apply)
	tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
	build "$tmp/kfake"
	rm -rf "$tree" && mv "$tmp/kfake" "$tree"
	;;
new)
	name=${2:?usage: scripts/kfake.sh new NAME}
	tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
	build "$tmp/a"
	mkdir -p "$patches"
	n=$(($( (ls "$patches"/*.patch 2>/dev/null || true) | wc -l) + 1))
	file=$(printf '%04d-%s.patch' "$n" "$name")
	(cd "$tmp" && cp -r "$OLDPWD/$tree" b && diff -ruN a b) >"$patches/$file" || true
	[ -s "$patches/$file" ] || { rm -f "$patches/$file"; log "no change to save"; exit 1; }
	echo "$file" >>"$patches/series"
	log "saved $patches/$file; describe it in $patches/README.md"
	;;
*)
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
