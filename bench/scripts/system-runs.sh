#!/usr/bin/env bash
# The system runs behind the table of issue 19 in docs/benchmarks.md:
# hookd-load against a real hookd on this machine, every row, ROUNDS rounds,
# each round interleaving the hookd of BASE_REV with the working tree's (the
# order alternates from round to round), then ONE markdown table of medians
# (base, head, head/base, target, the command of each row) printed by
# `hookd-load summarize` and kept in $OUT/summary.md.
#
#   bench/scripts/system-runs.sh [BASE_REV]          # e.g. 18cc673
#   RSS=1 bench/scripts/system-runs.sh 18cc673       # and the 10-minute RSS row
#   ROUNDS=1 N=2000 ROWS="sqlite burst" PORT=7740 RECV=8094 bench/scripts/system-runs.sh  # a trial
#
# Rows (ROWS, default all but rss):
#   sqlite      EdDSA JWT, SQLite, saturated: -n $N -c 32
#   pg          EdDSA JWT, PostgreSQL: the same with -cpu-comm postgres -pg-dsn (server CPU, WAL, commits)
#   events      strict HTTP events, global + domain 1: -n $EVENTS_N (hookd CPU per ack)
#   rs256       RS256 JWT, SQLite: -n $RS256_N -raw-sign (hookd CPU beyond one raw signature)
#   burst       -batch $BURST_BATCH -n $BURST_N on SQLite; its ratio is to the sqlite row of the same round
#   lat-sqlite  -rate 30 -duration $LAT_DURATION, SQLite
#   lat-pg      the same on PostgreSQL
#   (ROWS="" with RSS=1: the RSS row alone)
#   rss         (RSS=1) -rate $RSS_RATE -duration $RSS_DURATION, base and head at the same time on
#               PORT/RECV and PORT2/RECV2 (default PORT+1/RECV+1), once
#
# Environment: ROUNDS (3), N (20000), EVENTS_N (10000), RS256_N (6000), BURST_N (50000),
# BURST_BATCH (500), LAT_DURATION (20s, as docs/benchmarks.md's earlier runs), RSS (0), RSS_RATE (200), RSS_DURATION (10m),
# PORT (7700) and RECV (8081): hookd's and the receiver's ports (PORT2 and RECV2: the second pair of
# the RSS row), PGDB (hookd_load): the database
# hookd uses, dropped and created before each PostgreSQL run, PG_ADMIN_DSN (the hookd role on the
# local server: it must be allowed to create databases), LOAD_FLAGS: more hookd-load flags for every
# run (e.g. -drain 120s), OUT (a new directory under /tmp): where the
# reports go, KEEP_GOING (0): 1 to go on after a run that lost events (the summary still fails).
#
# Every run starts hookd on a fresh store from the config in cmd/hookd-load/configs/ with the ports
# and the database replaced, under cmd/hookd-load/configs/data/ (the repository's disk, not /tmp,
# which may be a tmpfs). A run that loses an event or has an error stops the script (exit 1) unless
# KEEP_GOING=1; the summary then exits 1 too.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
base_rev=${1:-}
ROUNDS=${ROUNDS:-3}
N=${N:-20000}
EVENTS_N=${EVENTS_N:-10000}
RS256_N=${RS256_N:-6000}
BURST_N=${BURST_N:-50000}
BURST_BATCH=${BURST_BATCH:-500}
LAT_DURATION=${LAT_DURATION:-20s}
RSS=${RSS:-0}
RSS_RATE=${RSS_RATE:-200}
RSS_DURATION=${RSS_DURATION:-10m}
PORT=${PORT:-7700}
RECV=${RECV:-8081}
PORT2=${PORT2:-$((PORT + 1))}
RECV2=${RECV2:-$((RECV + 1))}
PGDB=${PGDB:-hookd_load}
PG_ADMIN_DSN=${PG_ADMIN_DSN:-postgres://hookd:hookd@127.0.0.1:5432/hookd?sslmode=disable}
ROWS=${ROWS-sqlite pg events rs256 burst lat-sqlite lat-pg}
LOAD_FLAGS=${LOAD_FLAGS:-}
KEEP_GOING=${KEEP_GOING:-0}
OUT=${OUT:-$(mktemp -d /tmp/system-runs.XXXXXX)}
mkdir -p "$OUT"
pg_dsn="postgres://hookd:hookd@127.0.0.1:5432/$PGDB?sslmode=disable"
cfgs=cmd/hookd-load/configs
work=$root/$cfgs/data/system-runs.$$
bin=$(mktemp -d /tmp/system-runs-bin.XXXXXX)
wt=
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  [ -n "$wt" ] && git worktree remove --force "$wt" 2>/dev/null || true
  rm -rf "$bin" "$work"
}
trap cleanup EXIT

fail() {
  printf '\n*** system-runs.sh FAILED: %s\n*** reports in %s\n\n' "$*" "$OUT" >&2
  exit 1
}

echo "building hookd (head: the working tree${base_rev:+; base: $base_rev}) and hookd-load" >&2
go build -o "$bin/hookd-head" ./cmd/hookd
go build -o "$bin/hookd-load" ./cmd/hookd-load
sides=(head)
if [ -n "$base_rev" ]; then
  wt=$(mktemp -d /tmp/system-runs-base.XXXXXX)
  git worktree add -q --detach "$wt" "$base_rev"
  (cd "$wt" && go build -o "$bin/hookd-base" ./cmd/hookd)
  git worktree remove --force "$wt"
  wt=
  sides=(base head)
fi
[ -f $cfgs/private/ed25519.pem ] || "$bin/hookd-head" keys generate -out $cfgs/private/ed25519.pem -type ed25519
[ -f $cfgs/private/rsa2048.pem ] || "$bin/hookd-head" keys generate -out $cfgs/private/rsa2048.pem -type rsa2048
{
  echo "base ${base_rev:-none}${base_rev:+ ($(git rev-parse --short "$base_rev"))}, head $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' + uncommitted changes')"
  echo "$(date -u +%FT%TZ) $(nproc) cores, $(uptime)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

pgreset() {
  psql "$PG_ADMIN_DSN" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" -c "CREATE DATABASE $PGDB" >/dev/null ||
    fail "cannot drop and create database $PGDB with $PG_ADMIN_DSN (set PG_ADMIN_DSN to a role that may)"
}

# config TEMPLATE PORT RECV DIR: the config TEMPLATE with hookd on PORT, the
# receiver on RECV, hookd's database PGDB and the keys of $cfgs/private,
# written to DIR/hookd.toml (its SQLite store goes to DIR/data).
config() {
  local tmpl=$1 port=$2 recv=$3 dir=$4
  mkdir -p "$dir"
  sed -e "s/127\.0\.0\.1:7701/127.0.0.1:$port/; s/127\.0\.0\.1:7700/127.0.0.1:$port/" \
    -e "s/127\.0\.0\.1:808[12]/127.0.0.1:$recv/g" \
    -e "s#^private_dir = .*#private_dir = \"$root/$cfgs/private\"#" \
    -e "s#/hookd_load?#/$PGDB?#" "$cfgs/$tmpl" >"$dir/hookd.toml"
}

# start SIDE TEMPLATE PORT RECV NAME: hookd of SIDE on a fresh store; sets hookd_pid.
start() {
  local side=$1 tmpl=$2 port=$3 recv=$4 name=$5
  rm -rf "$work/$name"
  config "$tmpl" "$port" "$recv" "$work/$name"
  "$bin/hookd-$side" serve -config "$work/$name/hookd.toml" 2>"$OUT/$name.hookd.log" &
  hookd_pid=$!
  pids+=("$hookd_pid")
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    kill -0 "$hookd_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -5 "$OUT/$name.hookd.log" >&2
  fail "$name: hookd did not come up on port $port (log: $OUT/$name.hookd.log)"
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# check NAME RC: a run that lost events or had errors fails loudly.
check() {
  local name=$1 rc=$2
  [ "$rc" = 0 ] && return 0
  grep -h 'hookd-load: ' "$OUT/$name.err" | grep -v 'waiting' | tail -5 >&2 || true
  local lost
  lost=$(for k in delivered expected lost; do grep -o "\"$k\":[0-9]*" "$OUT/$name.json" 2>/dev/null | head -1; done | tr '\n' ' ' || true)
  if [ "$KEEP_GOING" = 1 ]; then
    printf '*** %s: hookd-load exit %s (%s) — LOST EVENTS OR ERRORS, going on (KEEP_GOING=1)\n' "$name" "$rc" "$lost" >&2
    return 0
  fi
  fail "$name: hookd-load exit $rc: a run lost events or had errors ($lost; report $OUT/$name.json)"
}

# one-line result of a report.
brief() {
  local f=$OUT/$1.json
  printf '%-22s delivered %s steady %s/s hookd %s ms per delivery, accept→arrival p50 %s p99 %s ms\n' "$1" \
    "$(grep -o '"delivered":[0-9]*' "$f" | head -1 | cut -d: -f2)" \
    "$(grep -o '"steady":{"per_s":[0-9.]*' "$f" | cut -d: -f3)" \
    "$(grep -o '"hookd":{[^}]*' "$f" | grep -o '"ms_per_delivery":[0-9.]*' | cut -d: -f2)" \
    "$(grep -o '"latency_ms":{"p50":[-0-9.]*' "$f" | head -1 | cut -d: -f3)" \
    "$(grep -o '"latency_ms":{[^}]*' "$f" | head -1 | grep -o '"p99":[-0-9.]*' | cut -d: -f2)" >&2
}

# row_args ROW: the config and hookd-load flags of ROW.
row_args() {
  case $1 in
  sqlite) echo "sqlite-eddsa.toml -n $N -c 32" ;;
  pg) echo "postgres-eddsa.toml -n $N -c 32 -cpu-comm postgres -pg-dsn $pg_dsn" ;;
  events) echo "sqlite-events.toml -mode events -paths /global,/domain/1 -n $EVENTS_N -c 32" ;;
  rs256) echo "sqlite-rs256.toml -n $RS256_N -c 32 -raw-sign $cfgs/private/rsa2048.pem -raw-sign-seconds 3" ;;
  burst) echo "sqlite-eddsa.toml -batch $BURST_BATCH -n $BURST_N -c 32 -drain 180s" ;; # River drains the base at ~1,200/s: 42 s, more on a busy machine
  lat-sqlite) echo "sqlite-eddsa.toml -rate 30 -duration $LAT_DURATION" ;;
  lat-pg) echo "postgres-eddsa.toml -rate 30 -duration $LAT_DURATION -cpu-comm postgres" ;;
  *) fail "unknown row $1 in ROWS (rows: sqlite pg events rs256 burst lat-sqlite lat-pg; RSS=1 for rss)" ;;
  esac
}

# run ROW SIDE ROUND: one run on a fresh store.
run() {
  local row=$1 side=$2 round=$3 name=$1-$2-$3
  local args tmpl
  args=$(row_args "$row")
  tmpl=${args%% *}
  args=${args#* }
  [ -f "$OUT/$row.cmd" ] || echo "hookd serve -config $cfgs/$tmpl & hookd-load $args${LOAD_FLAGS:+ $LOAD_FLAGS} -pid \$HOOKD -json" >"$OUT/$row.cmd"
  case $tmpl in postgres-*) pgreset ;; esac
  start "$side" "$tmpl" "$PORT" "$RECV" "$name"
  local pid=$hookd_pid rc=0
  # shellcheck disable=SC2086 # $args and $LOAD_FLAGS are lists of flags
  "$bin/hookd-load" -progress 0 -json -pid "$pid" -hookd "http://127.0.0.1:$PORT" -listen "127.0.0.1:$RECV" $args $LOAD_FLAGS \
    >"$OUT/$name.json" 2>"$OUT/$name.err" || rc=$?
  stop "$pid"
  brief "$name"
  check "$name" "$rc"
}

for row in $ROWS; do row_args "$row" >/dev/null; done
for round in $(seq "$ROUNDS"); do
  order=("${sides[@]}")
  if [ $((round % 2)) = 0 ] && [ ${#sides[@]} = 2 ]; then order=(head base); fi
  for row in $ROWS; do
    for side in "${order[@]}"; do
      run "$row" "$side" "$round"
    done
  done
done

# The RSS row: base and head side by side (the same load on each), once.
if [ "$RSS" = 1 ]; then
  echo "hookd serve -config $cfgs/sqlite-eddsa.toml & hookd-load -rate $RSS_RATE -duration $RSS_DURATION -rss-every 30s${LOAD_FLAGS:+ $LOAD_FLAGS} -pid \$HOOKD -json (base and head at the same time, the head on $cfgs/sqlite-eddsa-2.toml)" >"$OUT/rss.cmd"
  declare -A rss_pid load_pid
  i=0
  for side in "${sides[@]}"; do
    tmpl=sqlite-eddsa.toml port=$PORT recv=$RECV
    [ $i = 1 ] && tmpl=sqlite-eddsa-2.toml port=$PORT2 recv=$RECV2
    start "$side" $tmpl "$port" "$recv" "rss-$side-1"
    rss_pid[$side]=$hookd_pid
    "$bin/hookd-load" -progress 0 -json -pid "$hookd_pid" -hookd "http://127.0.0.1:$port" -listen "127.0.0.1:$recv" \
      -rate "$RSS_RATE" -duration "$RSS_DURATION" -rss-every 30s $LOAD_FLAGS >"$OUT/rss-$side-1.json" 2>"$OUT/rss-$side-1.err" &
    load_pid[$side]=$!
    pids+=("${load_pid[$side]}")
    i=$((i + 1))
  done
  echo "rss: ${sides[*]} side by side for $RSS_DURATION at $RSS_RATE events/s" >&2
  for side in "${sides[@]}"; do
    rc=0
    wait "${load_pid[$side]}" || rc=$?
    stop "${rss_pid[$side]}"
    brief "rss-$side-1"
    check "rss-$side-1" "$rc"
  done
fi

echo >&2
"$bin/hookd-load" summarize "$OUT" | tee "$OUT/summary.md" || fail "the summary found runs that lost events or had errors"
echo "reports in $OUT" >&2
