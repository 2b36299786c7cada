#!/usr/bin/env bash
# The load benchmark: the national data set in a fresh PostgreSQL database, `innoloan serve` with
# Redis, then wrk at 64 connections for 15 s against each endpoint. Each endpoint's requests per
# second are reported as a ratio to a trivial poem handler (/healthz) measured in the same run.
#
#   benches/load.sh            (PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379)
#
# Environment: PG_URL (default postgres://postgres@127.0.0.1), REDIS_URL (default
# redis://127.0.0.1:6379), DURATION (default 15s), CONNECTIONS (default 64), KEEP_DB=1 to keep
# the database afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${PG_URL:-postgres://postgres@127.0.0.1}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
DB="innoloan_load_$$"
PORT=18400
PORT_NOCACHE=18401
WORK="$(mktemp -d)"
SERVER_PID=""
NOCACHE_PID=""

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$NOCACHE_PID" ] && kill "$NOCACHE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "${KEEP_DB:-0}" != 1 ]; then
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

echo "== loading the national data set into $DB" >&2
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
load_started=$(date +%s)
"$TARGET/release/examples/national" "$PG_URL/$DB" | tee "$WORK/dataset.txt" >&2
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

echo "== warming up" >&2
wrk -t2 -c32 -d10s -s "$WORK/score.lua" "http://127.0.0.1:$PORT" >/dev/null 2>&1
for script in matches rankings stats; do wrk -t2 -c16 -d2s -s "$WORK/$script.lua" "http://127.0.0.1:$PORT" >/dev/null 2>&1; done

echo "== measuring, $CONNECTIONS connections, $DURATION each" >&2
run healthz $PORT - /healthz
run score $PORT score.lua /
run matches $PORT matches.lua /
run rankings $PORT rankings.lua /
run stats $PORT stats.lua /
run stats_alone $PORT stats.lua / 1
run disbursements $PORT disburse.lua /
run repayments $PORT repay.lua /
NOCACHE_PID=$(start_server $PORT_NOCACHE SCORE_CACHE=off)
wait_ready $PORT_NOCACHE
wrk -t2 -c16 -d2s -s "$WORK/score.lua" "http://127.0.0.1:$PORT_NOCACHE" >/dev/null 2>&1
run score_uncached $PORT_NOCACHE score.lua /
rss_nocache_kb=$(awk '/VmHWM/ {print $2}' "/proc/$NOCACHE_PID/status")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

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
  read -r rps p50 p99 non2xx <"$WORK/$2.result"
  ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "$ratio" "$non2xx"
}
echo
echo "Data set: 70,000 enterprises (10 parks, 2 periods), 20 banks, 100 products, 100,000 credit lines, 1,000,000 disbursements; loaded in ${load_seconds} s."
echo "wrk -t2 -c$CONNECTIONS -d$DURATION on $(nproc) cores shared with the server, PostgreSQL and Redis."
echo
echo "| endpoint | requests/s | p50 ms | p99 ms | ratio to /healthz | non-2xx |"
echo "|---|---|---|---|---|---|"
row 'GET /healthz (baseline)' healthz
row 'GET /enterprises/{id}/score, cached (Redis)' score
row 'GET /enterprises/{id}/score, cache off' score_uncached
row 'GET /enterprises/{id}/matches (100 products)' matches
row 'GET /parks/{id}/rankings?limit=100' rankings
row 'GET /parks/{id}/stats' stats
row 'GET /parks/{id}/stats, one connection' stats_alone
row 'POST /credit-lines/{id}/disbursements' disbursements
row 'POST /loans/{id}/repayments' repayments
echo
echo "Server peak RSS: $((rss_kb / 1024)) MB (the cache-off server: $((rss_nocache_kb / 1024)) MB)."
echo "Disbursements created under load: $created; lines overdrawn or out of balance: $overdrawn."
echo "Repayments recorded under load: $repaid; loans or lines whose totals differ from their rows: $unbalanced."
score_ratio=$(awk -v a="$(cut -d' ' -f1 "$WORK/score.result")" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')
matches_ratio=$(awk -v a="$(cut -d' ' -f1 "$WORK/matches.result")" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')
stats_p50=$(cut -d' ' -f2 "$WORK/stats.result")
[ "$overdrawn" = 0 ] || { echo "FAIL: $overdrawn credit lines are overdrawn or out of balance"; exit 1; }
[ "$unbalanced" = 0 ] || { echo "FAIL: $unbalanced loans or lines differ from their rows"; exit 1; }
echo "summary: score_ratio=$score_ratio matches_ratio=$matches_ratio stats_p50_ms=$stats_p50 rss_mb=$((rss_kb / 1024))"
