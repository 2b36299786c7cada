# Sourced by .ci/client.sh and .ci/schemathesis.sh: `innoloan demo` on a fresh PostgreSQL
# database with its own Redis key prefix and a free port, and its cleanup.
#
# The caller sets PG_ADMIN_URL (a database to CREATE/DROP from), DEMO_REDIS_URL, BIN (the
# innoloan binary) and RUN_ID (unique per run). start_demo sets SERVER_PID, BASE, DEMO_OUT,
# DB_NAME and REDIS_PREFIX; stop_demo undoes all of it and may be called any number of times.

SERVER_PID=""
DB_NAME=""
REDIS_PREFIX=""

psql_admin() { psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -q -X "$@"; }

stop_demo() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  if [[ -n "$DB_NAME" ]]; then
    psql_admin -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
    DB_NAME=""
  fi
  if [[ -n "$REDIS_PREFIX" ]]; then
    redis-cli -u "$DEMO_REDIS_URL" --scan --pattern "${REDIS_PREFIX}:*" 2>/dev/null \
      | xargs -r -n 500 redis-cli -u "$DEMO_REDIS_URL" del >/dev/null 2>&1 || true
    REDIS_PREFIX=""
  fi
}

# `innoloan verify` on the demo's database, after everything the run wrote: every maintained
# statistics total must equal what the rows say. Prints its report; fails on any drift.
verify_demo() {
  [[ -n "$DB_NAME" ]] || { echo "verify_demo: no demo database"; return 1; }
  DATABASE_URL="$(db_url "$DB_NAME")" RUST_LOG=warn "$BIN" verify
}

# Whether GET <url> answers 2xx; the optional second argument is an API key.
http_ok() {
  python3 - "$@" <<'PY' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    req.add_header("Authorization", "Bearer " + sys.argv[2])
with urllib.request.urlopen(req, timeout=5) as resp:
    sys.exit(0 if 200 <= resp.status < 300 else 1)
PY
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Replaces the database name in a postgres:// URL.
db_url() {
  python3 - "$PG_ADMIN_URL" "$1" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + sys.argv[2], u.query, u.fragment)))
PY
}

# start_demo NAME LOG_DIR: starts `innoloan demo` on a fresh database named after NAME, its
# stdout (the keys) in LOG_DIR/demo.out and its log in LOG_DIR/server.log, and waits for it.
start_demo() {
  local name="$1" logs="$2" port
  DB_NAME="innoloan_${name}_${RUN_ID}"
  REDIS_PREFIX="innoloan-${name}-${RUN_ID}"
  psql_admin -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null
  port="$(free_port)"
  BASE="http://127.0.0.1:$port"
  DEMO_OUT="$logs/demo.out"
  DATABASE_URL="$(db_url "$DB_NAME")" BIND_ADDR="127.0.0.1:$port" REDIS_URL="$DEMO_REDIS_URL" \
    REDIS_KEY_PREFIX="$REDIS_PREFIX" RUST_LOG="${RUST_LOG:-warn}" LOG_FORMAT=text \
    "$BIN" demo >"$DEMO_OUT" 2>"$logs/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 240); do
    if http_ok "$BASE/healthz"; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "innoloan demo exited early; its log:"; tail -n 40 "$logs/server.log"; return 1
    fi
    sleep 0.5
  done
  echo "innoloan demo did not answer /healthz within 120 s"; tail -n 40 "$logs/server.log"
  return 1
}

# The key printed by `innoloan demo` on the line that starts with "  <label>".
demo_key() {
  awk -v label="  $1" 'index($0, label) == 1 { print $NF; exit }' "$DEMO_OUT"
}
