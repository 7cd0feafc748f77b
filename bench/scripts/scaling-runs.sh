#!/usr/bin/env bash
# The check of docs/scaling.md: 1 hookd node, then 2, on one PostgreSQL
# database, each node pinned to its own core (taskset) and driven by its own
# hookd-load; prints what each run cost per delivery (hookd CPU, PostgreSQL
# CPU, WAL bytes, commits, statements) and the model's prediction beside
# the 2-node measurement.
#
#   bench/scripts/scaling-runs.sh            # N=20000 events per node, C=32 senders per node
#   N=3000 COUNT_N=1000 bench/scripts/scaling-runs.sh    # a short trial
#   RUNS="count retry" bench/scripts/scaling-runs.sh     # only the counts (any load)
#   REV=18cc673 bench/scripts/scaling-runs.sh            # the hookd of a revision
#
# Needs: a local PostgreSQL reachable as hookd/hookd on 127.0.0.1:5432
# (ADMIN_DSN) that may create and drop the database $DB (default hookd_f);
# ports 7760/7761 (hookd) and 8096/8097 (receivers) free; jq, taskset.
# As root (or the postgres user) it also reads, for the figures that do not
# depend on the machine's load:
#   - the WAL of the runs with pg_waldump ($PGWAL): WAL bytes and commit
#     records of this database only (pg_current_wal_lsn() counts every
#     database of the cluster);
#   - the server log ($PGLOG, with log_line_prefix's %u@%d, Debian's
#     default): in a short extra run per node count with log_statement =
#     'all' set on $DB only, the statements per delivery by kind.
# Without them those rows say "n/a". Reports go to $OUT (default: a new
# temporary directory). CORES (default "0 1") are the cores of node 1, 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000}
C=${C:-32}
COUNT_N=${COUNT_N:-2000}
ROUNDS=${ROUNDS:-1}
RUNS=${RUNS:-count retry scale} # which of the runs below
DB=${DB:-hookd_f}
ADMIN_DSN=${ADMIN_DSN:-postgres://hookd:hookd@127.0.0.1:5432/hookd?sslmode=disable}
DSN="${ADMIN_DSN%/*}/$DB?sslmode=disable"
PGWAL=${PGWAL:-$(ls -d /var/lib/postgresql/*/main/pg_wal 2>/dev/null | tail -1)}
PGLOG=${PGLOG:-$(ls /var/log/postgresql/postgresql-*-main.log 2>/dev/null | tail -1)}
WALDUMP=${WALDUMP:-$(ls /usr/lib/postgresql/*/bin/pg_waldump 2>/dev/null | tail -1)}
read -r -a CORES <<<"${CORES:-0 1}"
OUT=${OUT:-$(mktemp -d)}
tck=$(getconf CLK_TCK)
root=$PWD
work=$(mktemp -d)
pids=()
slot=${DB}_scaling
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "$work"/load*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
  unslot
  admin -c "ALTER DATABASE $DB RESET log_statement" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The hookd measured: the working tree's, or REV's (built in a worktree).
if [ -n "${REV:-}" ]; then
  wt=$(mktemp -d)
  git worktree add -q --detach "$wt" "$REV"
  (cd "$wt" && go build -o "$work/hookd" ./cmd/hookd)
  git worktree remove --force "$wt"
  tree=$(git rev-parse --short "$REV")
else
  go build -o "$work/hookd" ./cmd/hookd
  tree=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' ':!docs' || echo "+uncommitted")
fi
go build -o "$work/hookd-load" ./cmd/hookd-load
mkdir -m 700 "$work/private"
"$work/hookd" keys generate -out "$work/private/ed25519.pem" -type ed25519 >/dev/null
for i in 1 2; do
  sed "s|^dsn = .*|dsn = \"$DSN\"|" bench/scaling/node$i.toml >"$work/node$i.toml"
done

admin() { psql "$ADMIN_DSN" -qAt "$@"; }

# slot keeps the WAL from now on until unslot (a physical replication slot
# reserving it), so that pg_waldump still finds a run's WAL after the
# checkpoints that other work on the server may cause; cleanup drops it.
slot() {
  unslot
  admin -c "SELECT pg_create_physical_replication_slot('$slot', true)" >/dev/null
}
unslot() {
  admin -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$slot'" >/dev/null 2>&1 || true
}

pgreset() {
  admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
}

# pgticks: CPU clock ticks of PostgreSQL's processes: the backends of $DB
# (their process title names the database), and all of the server's
# processes with the exited children they waited for.
pgticks() {
  local db=0 all=0 p c s t title
  for p in /proc/[0-9]*; do
    # Builtins only: this runs between measurements on a busy machine.
    read -r c 2>/dev/null <"$p/comm" || continue
    [ "$c" = postgres ] || continue
    read -r s 2>/dev/null <"$p/stat" || continue
    # shellcheck disable=SC2086
    set -- ${s##*) }
    t=$((${12} + ${13}))
    all=$((all + t + ${14} + ${15}))
    title=
    IFS= read -r -d '' title 2>/dev/null <"$p/cmdline" || true
    if [[ "$title" == *" $DB "* ]]; then db=$((db + t)); fi
  done
  echo "$db $all"
}

# waldb FROM TO BYKIND: bytes (all; of them block data and page images),
# records and commit records of the WAL between two LSNs that belong to
# $DB: records of its relations, and every record of a transaction that
# wrote one (its commit included); bytes and records by kind (rmgr and
# operation) go to the file BYKIND. Prints "n/a" when the WAL cannot be read.
waldb() {
  local oid
  if [ -z "$WALDUMP" ] || [ ! -r "$PGWAL" ]; then echo "n/a n/a n/a n/a n/a n/a"; return; fi
  oid=$(admin -c "SELECT oid FROM pg_database WHERE datname = '$DB'")
  # pg_waldump fails at the end of the WAL written so far: that is expected.
  { "$WALDUMP" -p "$PGWAL" -s "$1" -e "$2" 2>/dev/null || true; } | awk -v oid="$oid" -v by="$3" '
    /^rmgr:/ {
      n++
      match($0, /len \(rec\/tot\): *[0-9]+\/ *[0-9]+/); split(substr($0, RSTART, RLENGTH), a, /[:\/ ]+/)
      rec[n] = a[4]; tot[n] = a[5]
      match($0, /tx: *[0-9]+/); split(substr($0, RSTART, RLENGTH), b, / +/); tx[n] = b[2]
      mine[n] = ($0 ~ ("rel [0-9]+/" oid "/"))
      if (mine[n] && tx[n] != 0) xid[tx[n]] = 1
      commit[n] = ($0 ~ /rmgr: Transaction .*desc: COMMIT/)
      match($0, /^rmgr: *[A-Za-z0-9]+/); r = substr($0, 7, RLENGTH - 6); gsub(/ /, "", r)
      match($0, /desc: [A-Z_0-9+]+/); kind[n] = r " " substr($0, RSTART + 6, RLENGTH - 6)
    }
    END {
      for (i = 1; i <= n; i++) if (mine[i] || (tx[i] != 0 && tx[i] in xid)) {
        bytes += tot[i]; blk += tot[i] - rec[i]; recs++; commits += commit[i]
        kb[kind[i]] += tot[i]; kn[kind[i]]++
        if (kind[i] ~ /^Heap (INSERT|UPDATE|HOT_UPDATE|DELETE)/) rows++
        if (kind[i] ~ /^Btree INSERT_/) idx++
      }
      for (k in kb) printf "%d\t%d\t%s\n", kb[k], kn[k], k >by
      if (bytes == 0) print "n/a n/a n/a n/a n/a n/a"  # nothing read: say so, not 0
      else printf "%d %d %d %d %d %d\n", bytes, blk, recs, commits, rows, idx
    }'
}

# kinds NAME DELIVERED: the WAL of a run by kind of record, per delivery.
kinds() {
  [ -s "$OUT/$1.wal.kinds" ] || return 0
  sort -rn "$OUT/$1.wal.kinds" | awk -v d="$2" -F'\t' \
    'BEGIN { print "bytes/delivery  records/delivery  kind" } { printf "%14.1f  %16.3f  %s\n", $1 / d, $2 / d, $3 }' >"$OUT/$1.wal.txt"
}

# dbstat: transactions committed and rows written in $DB, from
# pg_stat_database (read after the nodes stopped: a backend's counts reach
# it when it idles or exits).
dbstat() {
  admin -c "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = '$DB'" | tr '|' ' '
}

# start NODE [CONFIG]: hookd node NODE pinned to its core; waits for /healthz.
start() {
  local i=$1 port=$((7759 + $1)) cfg=${2:-$work/node$1.toml}
  taskset -c "${CORES[$((i - 1))]}" "$work/hookd" serve -config "$cfg" 2>"$OUT/$name.node$i.log" &
  pids+=($!)
  eval "pid$i=$!"
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "node $i did not come up: $OUT/$name.node$i.log" >&2
  exit 1
}

# nodeticks: CPU clock ticks of the running nodes together.
nodeticks() {
  local p s sum=0
  for p in "${pids[@]}"; do
    s=$(cat "/proc/$p/stat")
    # shellcheck disable=SC2086
    set -- ${s##*) }
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

stopnodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

# load NODE EVENTS: hookd-load against node NODE, its report to $OUT.
load() {
  local i=$1 pid
  eval "pid=\$pid$i"
  "$work/hookd-load" -hookd "http://127.0.0.1:$((7759 + i))" -listen "127.0.0.1:$((8095 + i))" \
    -n "$2" -c "$C" -pid "$pid" -drain 30s -progress 0 -json >"$OUT/$name.load$i.json" 2>"$OUT/$name.load$i.err" &
  echo $! >"$work/load$i.pid" # for cleanup
  wait $! || echo "$name: hookd-load of node $i exit $? ($OUT/$name.load$i.err)" >&2
}

# run NAME NODES EVENTS [count]: one measurement on a fresh database. With
# "count", $DB logs every statement and the log's new lines are counted.
run() {
  name=$1
  local nodes=$2 events=$3 count=${4:-} i logat=0 t0 t1 lsn0 lsn1 st0 st1 idle0 d i0 i1 h0 h1 idb0 idb1 idle="{}" disk w0 w1
  pgreset
  if [ -n "$count" ]; then
    admin -c "ALTER DATABASE $DB SET log_statement = 'all'" >/dev/null
  fi
  for i in $(seq "$nodes"); do start "$i"; done
  sleep 2 # migrations done, backends idle: their statistics flushed
  if [ -n "$count" ] && [ -r "$PGLOG" ]; then
    idle0=$(stat -c %s "$PGLOG") w0=$EPOCHREALTIME
    i0=$(pgticks) h0=$(nodeticks)
    sleep 5 # the nodes' statements when idle: heartbeats, River's polls
    i1=$(pgticks) h1=$(nodeticks)
    logat=$(stat -c %s "$PGLOG") w1=$EPOCHREALTIME
    awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f\n", b - a }' >"$OUT/$name.idle.s"
    read -r idb0 _ <<<"$i0"
    read -r idb1 _ <<<"$i1"
    idle=$(awk -v h=$((h1 - h0)) -v p=$((idb1 - idb0)) -v t="$tck" \
      -v w="$(cat "$OUT/$name.idle.s")" 'BEGIN { printf "{\"idle_hookd_cores\": %.4f, \"idle_pg_db_cores\": %.4f}", h / t / w, p / t / w }')
    head -c "$logat" "$PGLOG" | tail -c +"$((idle0 + 1))" >"$OUT/$name.idle.pglog"
  fi
  st0=$(dbstat)
  slot
  lsn0=$(admin -c "SELECT pg_current_wal_lsn()")
  t0=$(pgticks)
  local lp=()
  for i in $(seq "$nodes"); do load "$i" "$events" & lp+=($!); done
  for p in "${lp[@]}"; do wait "$p"; done
  t1=$(pgticks)
  lsn1=$(admin -c "SELECT pg_current_wal_lsn()")
  if [ -n "$count" ] && [ -r "$PGLOG" ]; then
    tail -c +"$((logat + 1))" "$PGLOG" >"$OUT/$name.pglog"
  fi
  stopnodes
  sleep 1 # the backends exit and flush their statistics
  st1=$(dbstat)
  if [ -n "$count" ]; then admin -c "ALTER DATABASE $DB RESET log_statement" >/dev/null; fi
  read -r xc0 tw0 <<<"$st0"
  read -r xc1 tw1 <<<"$st1"
  read -r pdb0 pall0 <<<"$t0"
  read -r pdb1 pall1 <<<"$t1"
  local wal walall
  echo "$lsn0 $lsn1" >"$OUT/$name.lsn"
  wal=$(waldb "$lsn0" "$lsn1" "$OUT/$name.wal.kinds")
  unslot
  kinds "$name" "$(jq -s 'map(.delivered) | add' "$OUT/$name".load*.json)"
  disk=$(psql "$DSN" -qAt -c "SELECT sum(pg_total_relation_size(oid)) FROM pg_class
    WHERE relname IN ('hookd_event', 'hookd_delivery', 'hookd_attempt')")
  walall=$(admin -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
  jq -s --arg name "$name" --argjson nodes "$nodes" --argjson tck "$tck" \
    --arg wal "$wal" --argjson walall "$walall" --argjson idle "$idle" --argjson disk "${disk:-0}" \
    --argjson xc $((xc1 - xc0)) --argjson tw $((tw1 - tw0)) \
    --argjson pdb $((pdb1 - pdb0)) --argjson pall $((pall1 - pall0)) '
    (map(.delivered) | add) as $d |
    ($wal | split(" ") | map(tonumber? // null)) as $w |
    { name: $name, nodes: $nodes, delivered: $d,
      lost: (map(.lost) | add), errors: (map(.errors.total) | add),
      rate: (map(.steady.per_s) | add),
      window_s: (map(.cpu.window_s) | max),
      hookd_ms: ((map(.cpu.hookd.s) | add) * 1000 / $d),
      hookd_cores: (map(.cpu.hookd.cores)),
      tool_ms: ((map(.cpu.tool.s) | add) * 1000 / $d),
      pg_db_ms: ($pdb / $tck * 1000 / $d),
      pg_all_ms: ($pall / $tck * 1000 / $d),
      pg_all_cores: ($pall / $tck / (map(.cpu.window_s) | max)),
      wal_db_b: (if $w[0] then $w[0] / $d else null end),
      wal_blk_share: (if $w[0] then $w[1] / $w[0] else null end),
      wal_records: (if $w[2] then $w[2] / $d else null end),
      commit_records: (if $w[3] then $w[3] / $d else null end),
      wal_cluster_b: ($walall / $d),
      xact_commit: ($xc / $d),
      tables_b: ($disk / $d),
      rows_written: ($tw / $d),
      heap_rows: (if $w[4] then $w[4] / $d else null end),
      index_entries: (if $w[5] then $w[5] / $d else null end) } + $idle' "$OUT/$name".load*.json >"$OUT/$name.json"
  if [ -n "$count" ] && [ -s "$OUT/$name.pglog" ]; then stmts "$name" "$events" "$nodes"; fi
}

# stmts NAME EVENTS NODES: statements per delivery by kind, from the log of
# a count run (River's queries begin with their sqlc name), and the idle
# nodes' statements per second.
stmts() {
  local d
  d=$(jq .delivered "$OUT/$1.json")
  classify() {
    awk -v db="@$DB " '
      index($0, db) && /LOG:  (execute [^:]*|statement): / {
        s = $0; sub(/.*LOG:  (execute [^:]*|statement): /, "", s)
        if (s ~ /^-- name: /) { split(s, a, " "); s = "river " a[3] }
        else { gsub(/[0-9]+/, "N", s); s = substr(s, 1, 72) }
        c[s]++; total++
      }
      END { for (s in c) printf "%d\t%s\n", c[s], s; printf "%d\t(all)\n", total }' "$@"
  }
  {
    echo "## statements of $1 ($3 node(s), $d delivered): per delivery, by kind"
    classify "$OUT/$1.pglog" | sort -rn | awk -v d="$d" -F'\t' '{ printf "%8.3f  %7d  %s\n", $1 / d, $1, $2 }'
    # A node's emit group commit sends its statements one after the other
    # on one connection: the mean gap between two of its inserts is one
    # statement's round trip t (logging included), which bounds a node's
    # emits near 1 / (2t) (docs/scaling.md).
    awk -v db="@$DB " 'index($0, db) && /LOG:  (execute [^:]*|statement): / {
        split($2, a, ":"); t = a[1] * 3600000 + a[2] * 60000 + a[3] * 1000
        s = $0; sub(/.*LOG:  (execute [^:]*|statement): /, "", s)
        e = (s ~ /^INSERT INTO hookd_(event|delivery) /)
        if (e && le && $4 == lp) { n++; sum += t - lt }
        lp = $4; lt = t; le = e }
      END { if (n) printf "## emit statements back to back on one connection: %d gaps, mean %.3f ms = t; 1/(2t) = %.0f events/s per node\n", n, sum / n, 1000 / (2 * sum / n) }' "$OUT/$1.pglog"
    # River's polls and the heartbeats run on their own clocks: take the
    # idle nodes' rate over the run's time off, leaving what the
    # deliveries cost (the longer a loaded machine takes, the more polls).
    local span idle
    span=$(awk -v db="@$DB " 'index($0, db) && /LOG:  / { split($2, a, ":"); t = a[1] * 3600 + a[2] * 60 + a[3]; if (!f) f = t; l = t }
      END { printf "%.3f", l - f }' "$OUT/$1.pglog")
    idle=$(classify "$OUT/$1.idle.pglog" | awk -F'\t' -v w="$(cat "$OUT/$1.idle.s" 2>/dev/null || echo 5)" '$2 == "(all)" { print $1 / w }')
    if [ -n "$idle" ] && [ -s "$OUT/$1.idle.s" ]; then
      classify "$OUT/$1.pglog" | awk -F'\t' -v d="$d" -v span="$span" -v idle="$idle" '$2 == "(all)" {
        printf "## without the idle nodes'"'"' %.1f statements/s over the run'"'"'s %.1f s: %.3f statements per delivery\n", idle, span, ($1 - idle * span) / d }'
    fi
    echo "## idle: statements per second, all nodes ($3)"
    classify "$OUT/$1.idle.pglog" | sort -rn | awk -F'\t' -v w="$(cat "$OUT/$1.idle.s" 2>/dev/null || echo 5)" '{ printf "%8.2f  %s\n", $1 / w, $2 }'
  } | tee "$OUT/$1.stmts.txt"
  jq --argjson s "$(classify "$OUT/$1.pglog" | awk -F'\t' '$2 == "(all)" { print $1 }')" \
    '. + { statements: ($s / .delivered) }' "$OUT/$1.json" >"$OUT/$1.json.tmp" && mv "$OUT/$1.json.tmp" "$OUT/$1.json"
}

# retries NAME: River's statements per job. Node 1 sends to a port where
# nothing listens (8097, node 2's receiver, not running), so that each of
# COUNT_N deliveries fails its direct attempt and gets a River job due 5 s
# later (the first step of the default retry schedule), which fetches it,
# fails again and snoozes it for 5 min. The log from the first POST until
# every delivery has its second attempt holds both; the statements River
# adds are those beside the direct path's.
retries() {
  name=$1
  local logat idle0 lsn0 lsn1 n=0
  pgreset
  admin -c "ALTER DATABASE $DB SET log_statement = 'all'" >/dev/null
  # The breaker would hold the failing target back after 5 failures in a
  # row (one probe per cooldown): every delivery must have its retry.
  { sed 's|^url = .*|url = "http://127.0.0.1:8097/"|' "$work/node1.toml"
    printf '\n[delivery]\nbreaker_threshold = 1000000\n'; } >"$work/node1-fail.toml"
  start 1 "$work/node1-fail.toml"
  sleep 2
  logat=$(stat -c %s "$PGLOG")
  slot
  lsn0=$(admin -c "SELECT pg_current_wal_lsn()")
  "$work/hookd-load" -hookd http://127.0.0.1:7760 -listen 127.0.0.1:8096 -n "$COUNT_N" -c "$C" -drain 0s \
    -progress 0 -json >"$OUT/$name.load.json" 2>"$OUT/$name.load.err" || true
  for _ in $(seq 600); do
    n=$(psql "$DSN" -qAt -c "SELECT count(*) FROM hookd_attempt")
    [ "$n" -ge $((2 * COUNT_N)) ] && break
    sleep 0.1
  done
  lsn1=$(admin -c "SELECT pg_current_wal_lsn()")
  tail -c +"$((logat + 1))" "$PGLOG" | grep -v 'SELECT count(\*) FROM hookd_attempt' >"$OUT/$name.pglog"
  stopnodes
  admin -c "ALTER DATABASE $DB RESET log_statement" >/dev/null
  echo "{\"delivered\": $COUNT_N}" >"$OUT/$name.json"
  {
    echo "## $name: $COUNT_N deliveries, each a failed direct attempt and a failed River attempt ($n attempts): per delivery"
    waldb "$lsn0" "$lsn1" "$OUT/$name.wal.kinds" | awk -v d="$COUNT_N" '$1 == "n/a" { print "WAL: n/a" }
      $1 != "n/a" { printf "WAL bytes %.0f, commit records %.3f, heap rows %.2f, index entries %.2f per delivery\n", $1 / d, $4 / d, $5 / d, $6 / d }'
  } | tee "$OUT/$name.wal.sum"
  unslot
  kinds "$name" "$COUNT_N"
  : >"$OUT/$name.idle.pglog"
  stmts "$name" "$COUNT_N" 1 | sed '/^## idle/,$d'
}

has() { [[ " $RUNS " == *" $1 "* ]]; }
if [ -r "$PGLOG" ]; then
  if has count; then
    run count-1 1 "$COUNT_N" count
    run count-2 2 "$COUNT_N" count
  fi
  if has retry; then retries retry-1; fi
else
  echo "no server log readable at PGLOG=$PGLOG: statements not counted" >&2
fi
if has scale; then
  for r in $(seq "$ROUNDS"); do
    run one-$r 1 "$N"
    run two-$r 2 "$N"
  done
fi

echo "hookd $tree"
files=$(ls "$OUT"/one-*.json "$OUT"/two-*.json "$OUT"/count-*.json 2>/dev/null | grep -v '\.load' || true)
if [ -z "$files" ]; then
  echo "reports in $OUT"
  exit 0
fi
# The table: every run, then the model's 2-node figures (from the 1-node
# runs' medians: per-delivery costs do not change with N; commits and
# statements per delivery do not either while each node's group commits
# are as full, i.e. as many senders per node) beside the 2-node medians.
jq -s -r --argjson cores "${#CORES[@]}" --arg db "$DB" '
  def med: map(select(. != null)) | sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
  def f(d): if . == null then "n/a" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
  def pct(m; x): if m == null or x == null or m == 0 then "" else ((x - m) / m * 100 | round | tostring) + " %" end;
  . as $all |
  (["run", "nodes", "delivered", "lost", "rate/s", "hookd ms", "PG ms (db)", "PG ms (all)", "WAL B (db)", "WAL B (cluster)", "commit rec", "xact_commit", "heap rows", "index entries", "statements"] | join(" | ") | "| " + . + " |"),
  ("|" + (" --- |" * 15)),
  ($all[] | ["\(.name)", "\(.nodes)", "\(.delivered)", "\(.lost)", (.rate | f(0)), (.hookd_ms | f(3)), (.pg_db_ms | f(3)), (.pg_all_ms | f(3)),
    (.wal_db_b | f(0)), (.wal_cluster_b | f(0)), (.commit_records | f(3)), (.xact_commit | f(3)), (.heap_rows | f(2)), (.index_entries | f(2)), (.statements | f(2))] | join(" | ") | "| " + . + " |"),
  "",
  ([ $all[] | select(.name | startswith("one-")) ] as $one |
   [ $all[] | select(.name | startswith("two-")) ] as $two |
   ($one | map(.hookd_ms) | med) as $h | ($one | map(.pg_all_ms) | med) as $p |
   ($one | map(.pg_db_ms) | med) as $pd | ($one | map(.tool_ms) | med) as $tl |
   ($one | map(.wal_db_b) | med) as $w | ($one | map(.commit_records) | med) as $k |
   ($one | map(.xact_commit) | med) as $x | ($one | map(.heap_rows) | med) as $rw |
   ($two | map(.hookd_ms) | med) as $h2 | ($two | map(.pg_all_ms) | med) as $p2 |
   ($two | map(.pg_db_ms) | med) as $pd2 | ($two | map(.tool_ms) | med) as $tl2 |
   ($two | map(.wal_db_b) | med) as $w2 | ($two | map(.commit_records) | med) as $k2 |
   ($two | map(.xact_commit) | med) as $x2 | ($two | map(.heap_rows) | med) as $rw2 |
   ($two | map(.rate) | med) as $r2 | ($one | map(.rate) | med) as $r1 |
   # This machine: every process shares its cores, so the 2-node rate is
   # what the cores give hookd + PostgreSQL + the load tools per delivery.
   if $h == null or $h2 == null then "(no 1-node and 2-node runs: no model table)" else
   ($cores * 1000 / ($h + $p + $tl)) as $cap |
   "| 2 nodes | model (from 1 node) | measured | measured − model |",
   "| --- | --- | --- | --- |",
   "| hookd CPU ms per delivery (each node) | \($h | f(3)) | \($h2 | f(3)) | \(pct($h; $h2)) |",
   "| PostgreSQL CPU ms per delivery (all processes) | \($p | f(3)) | \($p2 | f(3)) | \(pct($p; $p2)) |",
   "| PostgreSQL CPU ms per delivery (\($db) backends) | \($pd | f(3)) | \($pd2 | f(3)) | \(pct($pd; $pd2)) |",
   "| load tools CPU ms per delivery | \($tl | f(3)) | \($tl2 | f(3)) | \(pct($tl; $tl2)) |",
   "| WAL bytes per delivery (\($db)) | \($w | f(0)) | \($w2 | f(0)) | \(pct($w; $w2)) |",
   "| commit records per delivery | \($k | f(3)) | \($k2 | f(3)) | \(pct($k; $k2)) |",
   "| transactions (xact_commit) per delivery | \($x | f(3)) | \($x2 | f(3)) | \(pct($x; $x2)) |",
   "| heap rows written per delivery (WAL) | \($rw | f(2)) | \($rw2 | f(2)) | \(pct($rw; $rw2)) |",
   "| delivered/s (this machine: \($cores) cores ÷ (hookd + PG + tools) per delivery; 1 node measured \($r1 | f(0))) | \($cap | f(0)) | \($r2 | f(0)) | \(pct($cap; $r2)) |" end)
' $files | tee "$OUT/table.md"
echo "load: $(uptime)"
echo "reports in $OUT"
