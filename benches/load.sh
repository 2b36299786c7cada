#!/usr/bin/env bash
# The load benchmark: the national data set in a fresh PostgreSQL database, `innoloan serve` with
# Redis, then wrk at 64 connections for 15 s against each endpoint. Each endpoint's requests per
# second are reported as a ratio to a trivial poem handler (/healthz) measured in the same run.
# Every score is looked up once before the cached rows are measured, and each cached row prints
# its hit ratio from /metrics. After the load, `innoloan verify` recomputes every statistics
# total from the rows: any drift fails the run.
#
#   benches/load.sh            (PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379)
#
# Environment: PG_URL (default postgres://postgres@127.0.0.1), REDIS_URL (default
# redis://127.0.0.1:6379), DURATION (default 15s), CONNECTIONS (default 64), KEEP_DB=1 to keep
# the database afterwards, NATIONAL_DISBURSEMENTS (default 1000000) for a larger data set, and
# ONLY=stats to measure only /healthz and the statistics (the scale check). KEEP_DB=1 keeps the
# database and its keys (in /tmp/<database>.txt); REUSE_DB=<database> measures it again without
# loading (the load's own writes stay in it).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${PG_URL:-postgres://postgres@127.0.0.1}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
DB="${REUSE_DB:-innoloan_load_$$}"
PORT=18400
PORT_NOCACHE=18401
PORT_REDIS_ONLY=18402
ONLY="${ONLY:-all}"
WORK="$(mktemp -d)"
SERVER_PID=""
NOCACHE_PID=""
REDIS_ONLY_PID=""

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$NOCACHE_PID" ] && kill "$NOCACHE_PID" 2>/dev/null || true
  [ -n "$REDIS_ONLY_PID" ] && kill "$REDIS_ONLY_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "${KEEP_DB:-0}" != 1 ] && [ -z "${REUSE_DB:-}" ]; then
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  echo "installing wrk from Debian's packages" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

echo "== building (release)" >&2
cargo build --release --quiet --bin innoloan --example national
TARGET="${CARGO_TARGET_DIR:-target}"

load_started=$(date +%s)
if [ -n "${REUSE_DB:-}" ]; then
  echo "== measuring $DB again (loaded before)" >&2
  cp "/tmp/$DB.txt" "$WORK/dataset.txt"
else
  echo "== loading the national data set into $DB" >&2
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  "$TARGET/release/examples/national" "$PG_URL/$DB" | tee "$WORK/dataset.txt" >&2
  [ "${KEEP_DB:-0}" = 1 ] && cp "$WORK/dataset.txt" "/tmp/$DB.txt"
fi
load_seconds=$(( $(date +%s) - load_started ))
ADMIN_KEY=$(sed -n 's/^ADMIN_KEY=//p' "$WORK/dataset.txt")
ENTERPRISES=$(sed -n 's/^ENTERPRISES=1..=//p' "$WORK/dataset.txt")
PARKS=$(sed -n 's/^PARKS=1..=//p' "$WORK/dataset.txt")
LINES=$(sed -n 's/^LINES=1..=//p' "$WORK/dataset.txt")
LOANS=$(sed -n 's/^LOANS=1..=//p' "$WORK/dataset.txt")

start_server() { # port, extra env...
  local port=$1; shift
  env DATABASE_URL="$PG_URL/$DB" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="load$$" BIND_ADDR="127.0.0.1:$port" \
    RUST_LOG=warn DATABASE_MAX_CONNECTIONS=32 "$@" "$TARGET/release/innoloan" serve >"$WORK/server-$port.log" 2>&1 &
  echo $!
}
wait_ready() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "the server on port $1 did not start" >&2; cat "$WORK/server-$1.log" >&2; exit 1
}

SERVER_PID=$(start_server $PORT)
wait_ready $PORT
# The daily servicing job runs when a server starts: it pages through every loan once and rolls
# the balance totals. Measure after it, as a server spends its day.
echo "== waiting for the daily servicing job's run of today" >&2
job_started=$(date +%s)
for _ in $(seq 1 1200); do
  done_today=$(psql "$PG_URL/$DB" -tAc "SELECT COUNT(*) FROM daily_runs WHERE day = (now() AT TIME ZONE 'UTC')::date AND finished_at IS NOT NULL")
  [ "$done_today" = 1 ] && break
  sleep 1
done
job_seconds=$(( $(date +%s) - job_started ))
echo "   the daily job finished after ${job_seconds} s" >&2

# One Lua script per endpoint: a random id per request, and the admin key.
lua_get() { # file, path prefix, id range, path suffix
  cat >"$WORK/$1" <<LUA
wrk.headers["Authorization"] = "Bearer $ADMIN_KEY"
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "$2" .. math.random(1, $3) .. "$4")
end
LUA
}
lua_get score.lua /api/v1/enterprises/ "$ENTERPRISES" /score
lua_get matches.lua /api/v1/enterprises/ "$ENTERPRISES" /matches
lua_get rankings.lua /api/v1/parks/ "$PARKS" "/rankings?limit=100"
lua_get stats.lua /api/v1/parks/ "$PARKS" /stats
lua_get policies.lua /api/v1/enterprises/ "$ENTERPRISES" /policies
lua_get repayments_list.lua /api/v1/loans/ "$LOANS" /repayments
lua_get events.lua "/api/v1/events?limit=100&after=" 1000 ""
# Every enterprise once, in order (each thread from its own offset), then around again.
cat >"$WORK/warm.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $ADMIN_KEY"
local first, last = 1, $ENTERPRISES
local threads, n = 0, 0
setup = function(thread) threads = threads + 1; thread:set("offset", threads - 1) end
init = function() n = offset end
request = function()
  local id = first + (n % (last - first + 1))
  n = n + 2
  return wrk.format("GET", "/api/v1/enterprises/" .. id .. "/score")
end
LUA
TODAY=$(date -u +%F)
cat >"$WORK/disburse.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $ADMIN_KEY"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local thread_tag = tostring(math.random(1, 1000000000))
setup = function(thread) thread:set("seed", math.random(1, 1000000000)) end
init = function() math.randomseed(seed or os.time()) thread_tag = tostring(seed or 0) end
request = function()
  counter = counter + 1
  local line = math.random(1, $LINES)
  local body = '{"amount": 100, "reference": "LOAD-' .. thread_tag .. '-' .. counter .. '", "disbursed_on": "$TODAY"}'
  return wrk.format("POST", "/api/v1/credit-lines/" .. line .. "/disbursements", nil, body)
end
LUA

cat >"$WORK/repay.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $ADMIN_KEY"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local thread_tag = "0"
setup = function(thread) thread:set("seed", math.random(1, 1000000000)) end
init = function() math.randomseed(seed or os.time()) thread_tag = tostring(seed or 0) end
request = function()
  counter = counter + 1
  local loan = math.random(1, $LOANS)
  local body = '{"amount": 1, "reference": "LOAD-' .. thread_tag .. '-' .. counter .. '", "paid_on": "$TODAY"}'
  return wrk.format("POST", "/api/v1/loans/" .. loan .. "/repayments", nil, body)
end
LUA

# Parses wrk's output into "requests/s p50_ms p99_ms".
parse() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { non2xx = $NF }
    END { printf "%.0f %.2f %.2f %s\n", rps, p50, p99, (non2xx == "" ? 0 : non2xx) }'
}
run() { # name, port, script (or "-"), path, [connections]
  local script=()
  [ "$3" != "-" ] && script=(-s "$WORK/$3")
  local connections="${5:-$CONNECTIONS}"
  local threads=$(( connections < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$connections" -d"$DURATION" --latency "${script[@]}" "http://127.0.0.1:$2$4" >"$WORK/$1.txt" 2>&1
  parse <"$WORK/$1.txt" >"$WORK/$1.result"
  echo "   $1: $(cat "$WORK/$1.result")" >&2
}

# The score cache's look-ups so far on a server, as "hits misses errors".
cache_counts() {
  curl -s "http://127.0.0.1:$1/metrics" | awk '
    /^score_cache_total/ && /outcome="hit"/ { h = $NF }
    /^score_cache_total/ && /outcome="miss"/ { m = $NF }
    /^score_cache_total/ && /outcome="error"/ { e = $NF }
    END { printf "%d %d %d\n", h, m, e }'
}
# Runs a measured row and records the share of its look-ups that hit the cache.
run_cached() { # name, port, script, path
  read -r h0 m0 e0 < <(cache_counts "$2")
  run "$@"
  read -r h1 m1 e1 < <(cache_counts "$2")
  awk -v h=$((h1 - h0)) -v m=$((m1 - m0)) -v e=$((e1 - e0)) \
    'BEGIN { t = h + m + e; printf "%.4f %d\n", (t > 0 ? h / t : 0), t }' >"$WORK/$1.hits"
  echo "   $1: hit ratio $(cut -d' ' -f1 "$WORK/$1.hits") over $(cut -d' ' -f2 "$WORK/$1.hits") look-ups" >&2
}

rss_nocache_kb=0
rss_redis_only_kb=0
if [ "$ONLY" = stats ]; then
  echo "== warming up the statistics" >&2
  wrk -t2 -c16 -d5s -s "$WORK/stats.lua" "http://127.0.0.1:$PORT" >/dev/null 2>&1
  echo "== measuring, $CONNECTIONS connections, $DURATION each" >&2
  run healthz $PORT - /healthz
  run stats $PORT stats.lua /
  run stats_alone $PORT stats.lua / 1
else
  echo "== warming up: every score once, then each endpoint" >&2
  for _ in $(seq 1 12); do
    wrk -t2 -c32 -d10s -s "$WORK/warm.lua" "http://127.0.0.1:$PORT" >/dev/null 2>&1
    read -r warm_hits warm_misses _ < <(cache_counts $PORT)
    [ "$warm_misses" -ge "$ENTERPRISES" ] && break
  done
  echo "   warm-up: $warm_misses misses (each a database read) and $warm_hits hits for $ENTERPRISES enterprises" >&2
  for script in matches rankings stats policies repayments_list events; do
    wrk -t2 -c16 -d2s -s "$WORK/$script.lua" "http://127.0.0.1:$PORT" >/dev/null 2>&1
  done

  echo "== measuring, $CONNECTIONS connections, $DURATION each" >&2
  run healthz $PORT - /healthz
  run_cached score $PORT score.lua /
  run_cached matches $PORT matches.lua /
  run rankings $PORT rankings.lua /
  run stats $PORT stats.lua /
  run stats_alone $PORT stats.lua / 1
  run policies $PORT policies.lua /
  run repayments_list $PORT repayments_list.lua /
  run events $PORT events.lua /
  run disbursements $PORT disburse.lua /
  run repayments $PORT repay.lua /
  # The same scores through Redis alone (its entries are warm from the first server).
  REDIS_ONLY_PID=$(start_server $PORT_REDIS_ONLY SCORE_CACHE_NEAR=off)
  wait_ready $PORT_REDIS_ONLY
  wrk -t2 -c16 -d2s -s "$WORK/score.lua" "http://127.0.0.1:$PORT_REDIS_ONLY" >/dev/null 2>&1
  run_cached score_redis $PORT_REDIS_ONLY score.lua /
  rss_redis_only_kb=$(awk '/VmHWM/ {print $2}' "/proc/$REDIS_ONLY_PID/status")
  kill "$REDIS_ONLY_PID"; REDIS_ONLY_PID=""
  NOCACHE_PID=$(start_server $PORT_NOCACHE SCORE_CACHE=off)
  wait_ready $PORT_NOCACHE
  wrk -t2 -c16 -d2s -s "$WORK/score.lua" "http://127.0.0.1:$PORT_NOCACHE" >/dev/null 2>&1
  run score_uncached $PORT_NOCACHE score.lua /
  rss_nocache_kb=$(awk '/VmHWM/ {print $2}' "/proc/$NOCACHE_PID/status")
fi
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""

echo "== innoloan verify: every statistics total against the rows" >&2
verify_started=$(date +%s)
drift_status=0
DATABASE_URL="$PG_URL/$DB" RUST_LOG=warn "$TARGET/release/innoloan" verify >"$WORK/verify.txt" 2>&1 || drift_status=$?
cat "$WORK/verify.txt" >&2
drift=$(sed -n 's/.* \([0-9]*\) differ from the rows.*/\1/p' "$WORK/verify.txt")
drift="${drift:-unknown}"
verify_seconds=$(( $(date +%s) - verify_started ))

overdrawn=$(psql "$PG_URL/$DB" -tAc "SELECT COUNT(*) FROM credit_lines l WHERE l.disbursed_total > l.amount OR l.disbursed_total <> COALESCE((SELECT SUM(d.amount) FROM disbursements d WHERE d.credit_line_id = l.id), 0)")
created=$(psql "$PG_URL/$DB" -tAc "SELECT COUNT(*) FROM disbursements WHERE reference LIKE 'LOAD-%'")
repaid=$(psql "$PG_URL/$DB" -tAc "SELECT COUNT(*) FROM repayments WHERE reference LIKE 'LOAD-%'")
# Every loan's totals are the sums of its repayments, and every line's balance is what was drawn
# less the principal repaid on its loans.
unbalanced=$(psql "$PG_URL/$DB" -tAc "
  SELECT (SELECT COUNT(*) FROM loans l LEFT JOIN (SELECT loan_id, SUM(principal_paid) AS p, SUM(interest_paid) AS i FROM repayments GROUP BY loan_id) r ON r.loan_id = l.id
          WHERE l.principal_repaid <> COALESCE(r.p, 0) OR l.interest_repaid <> COALESCE(r.i, 0))
       + (SELECT COUNT(*) FROM credit_lines c WHERE c.principal_outstanding <> c.disbursed_total - COALESCE((SELECT SUM(principal_repaid) FROM loans WHERE credit_line_id = c.id), 0))")

base_rps=$(cut -d' ' -f1 "$WORK/healthz.result")
row() { # label, name
  [ -f "$WORK/$2.result" ] || return 0
  read -r rps p50 p99 non2xx <"$WORK/$2.result"
  ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  hits="—"
  [ -f "$WORK/$2.hits" ] && hits=$(cut -d' ' -f1 "$WORK/$2.hits")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "$ratio" "$hits" "$non2xx"
}
ratio_of() { [ -f "$WORK/$1.result" ] && awk -v a="$(cut -d' ' -f1 "$WORK/$1.result")" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }' || echo "-"; }
echo
echo "Data set: 70,000 enterprises (10 parks, 2 periods), 20 banks, 100 products, 100,000 credit lines, $(sed -n 's/^LOANS=1..=//p' "$WORK/dataset.txt") disbursements; loaded in ${load_seconds} s."
echo "wrk -t2 -c$CONNECTIONS -d$DURATION on $(nproc) cores shared with the server, PostgreSQL and Redis; the daily job's run of today took ${job_seconds} s before the measurements."
echo
echo "| endpoint | requests/s | p50 ms | p99 ms | ratio to /healthz | cache hit ratio | non-2xx |"
echo "|---|---|---|---|---|---|---|"
row 'GET /healthz (baseline)' healthz
row 'GET /enterprises/{id}/score, cached (in process, confirmed by Redis)' score
row 'GET /enterprises/{id}/score, cached (Redis only, SCORE_CACHE_NEAR=off)' score_redis
row 'GET /enterprises/{id}/score, cache off' score_uncached
row 'GET /enterprises/{id}/matches (100 products, summaries)' matches
row 'GET /parks/{id}/rankings?limit=100' rankings
row 'GET /parks/{id}/stats' stats
row 'GET /parks/{id}/stats, one connection' stats_alone
row 'GET /enterprises/{id}/policies' policies
row 'GET /loans/{id}/repayments' repayments_list
row 'GET /events?limit=100' events
row 'POST /credit-lines/{id}/disbursements' disbursements
row 'POST /loans/{id}/repayments' repayments
echo
echo "Server peak RSS: $((rss_kb / 1024)) MB (the Redis-only server: $((rss_redis_only_kb / 1024)) MB; the cache-off server: $((rss_nocache_kb / 1024)) MB)."
echo "Disbursements created under load: $created; lines overdrawn or out of balance: $overdrawn."
echo "Repayments recorded under load: $repaid; loans or lines whose totals differ from their rows: $unbalanced."
echo "innoloan verify after the load: $drift statistics totals differ from the rows (${verify_seconds} s)."
score_ratio=$(ratio_of score)
matches_ratio=$(ratio_of matches)
stats_p50=$(cut -d' ' -f2 "$WORK/stats.result")
stats_p99=$(cut -d' ' -f3 "$WORK/stats.result")
[ "$overdrawn" = 0 ] || { echo "FAIL: $overdrawn credit lines are overdrawn or out of balance"; exit 1; }
[ "$unbalanced" = 0 ] || { echo "FAIL: $unbalanced loans or lines differ from their rows"; exit 1; }
[ "$drift_status" = 0 ] || { echo "FAIL: innoloan verify found statistics totals that drifted from the rows"; exit 1; }
echo "summary: score_ratio=$score_ratio matches_ratio=$matches_ratio stats_p50_ms=$stats_p50 stats_p99_ms=$stats_p99 rss_mb=$((rss_kb / 1024)) drift=$drift"
