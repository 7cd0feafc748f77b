#!/usr/bin/env bash
# The system runs of docs/benchmarks.md ("Issue 11"): hookd-load against a
# real hookd on this machine, SQLite and PostgreSQL, EdDSA and RS256,
# strict HTTP events, and latency at 30 events/s; three rounds, each
# interleaving the hookd of BASE_REV (if given) with the working tree's.
#
#   bench/scripts/system-runs.sh [BASE_REV]      # e.g. cc57fb7
#
# Needs a local PostgreSQL with the role hookd/hookd (eval "$(.ci/postgres.sh)")
# for the PostgreSQL runs, and ports 7700 and 8081 free. Reports go to
# $OUT (default: a new temporary directory), one file per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
base_rev=${1:-}
OUT=${OUT:-$(mktemp -d)}
bin=$(mktemp -d)
go build -o "$bin/hookd-head" ./cmd/hookd
go build -o "$bin/hookd-load" ./cmd/hookd-load
bins=(head)
if [ -n "$base_rev" ]; then
  wt=$(mktemp -d)
  git worktree add -q --detach "$wt" "$base_rev"
  (cd "$wt" && go build -o "$bin/hookd-base" ./cmd/hookd)
  git worktree remove --force "$wt"
  bins=(base head)
fi
cfgs=cmd/hookd-load/configs
[ -f $cfgs/private/ed25519.pem ] || "$bin/hookd-head" keys generate -out $cfgs/private/ed25519.pem -type ed25519
[ -f $cfgs/private/rsa2048.pem ] || "$bin/hookd-head" keys generate -out $cfgs/private/rsa2048.pem -type rsa2048

pgreset() {
  psql "postgres://hookd:hookd@127.0.0.1:5432/hookd?sslmode=disable" -q \
    -c 'DROP DATABASE IF EXISTS hookd_load' -c 'CREATE DATABASE hookd_load' 2>/dev/null ||
    su postgres -c "psql -q -c 'DROP DATABASE IF EXISTS hookd_load' -c 'CREATE DATABASE hookd_load OWNER hookd'"
}

# run NAME HOOKD CONFIG hookd-load-flags…: one scenario on a fresh store.
run() {
  local name=$1 hookd=$2 cfg=$3
  shift 3
  rm -rf $cfgs/data
  "$hookd" serve -config $cfgs/$cfg 2>"$OUT/$name.hookd.log" &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:7700/healthz >/dev/null && break; sleep 0.1; done
  "$bin/hookd-load" -progress 0 -pid $pid "$@" >"$OUT/$name.txt" 2>&1 || echo "$name: hookd-load exit $?"
  kill $pid; wait $pid || true
  grep -E '^delivered/s steady|^delivered / raw|^accept→arrival' "$OUT/$name.txt" | sed "s/^/$name: /"
}

for round in 1 2 3; do
  for b in "${bins[@]}"; do
    h="$bin/hookd-$b"
    run sqlite-$b-$round "$h" sqlite-eddsa.toml -n 20000 -c 32
    pgreset; run pg-$b-$round "$h" postgres-eddsa.toml -n 20000 -c 32 -cpu-comm postgres
    run rs256-$b-$round "$h" sqlite-rs256.toml -n 6000 -c 32 -raw-sign $cfgs/private/rsa2048.pem -raw-sign-seconds 3
    run events-$b-$round "$h" sqlite-events.toml -mode events -paths /global,/domain/1 -n 10000 -c 32
    run lat-sqlite-$b-$round "$h" sqlite-eddsa.toml -rate 30 -duration 20s
    pgreset; run lat-pg-$b-$round "$h" postgres-eddsa.toml -rate 30 -duration 20s -cpu-comm postgres
  done
done
rm -rf "$bin" $cfgs/data
echo "reports in $OUT"
