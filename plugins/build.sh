#!/bin/sh
# build.sh builds Go plugins as WASI reactors, the way hookd loads them:
#
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o <out>/<name>.wasm ./plugins/examples/<name>
#
# Usage: plugins/build.sh [-o dir] [name...]
#
# Without names it builds every example in plugins/examples. The output
# directory defaults to bin/plugins (git-ignored); Go-built .wasm files are
# never committed. $GO selects the go command (default: go).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/bin/plugins
if [ "${1-}" = "-o" ]; then
	[ $# -ge 2 ] || { echo "usage: $0 [-o dir] [name...]" >&2; exit 2; }
	out=$2
	shift 2
fi
if [ $# -eq 0 ]; then
	for d in "$root"/plugins/examples/*/; do
		[ -f "$d/main.go" ] && set -- "$@" "$(basename "$d")"
	done
fi
mkdir -p "$out"
cd "$root"
for name in "$@"; do
	[ -d "plugins/examples/$name" ] || { echo "$0: no plugin plugins/examples/$name" >&2; exit 1; }
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 ${GO:-go} build -buildmode=c-shared -o "$out/$name.wasm" "./plugins/examples/$name"
	echo "$out/$name.wasm"
done
