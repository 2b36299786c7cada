#!/usr/bin/env bash
# CI: schemathesis against a live `innoloan demo` on PostgreSQL and Redis, once per role.
#
# For each of the four demo keys (admin, park office, bank, enterprise) this script
#   1. creates a fresh PostgreSQL database and starts `innoloan demo` on it (the demo data set,
#      so that ids in paths and bodies can refer to records that exist), with its own Redis
#      key prefix and a free port;
#   2. collects ids that exist (as the admin, and as the role, so that in-scope ids are there)
#      and writes a schemathesis config that draws path ids, body ids, periods, dates, amounts
#      and USCCs from them *part of the time*; the rest of the time schemathesis generates
#      freely, so unknown, malformed and out-of-scope ids are still tried;
#   3. runs schemathesis over every operation of the served /openapi.json with the checks
#      not_a_server_error, status_code_conformance, content_type_conformance,
#      response_schema_conformance, negative_data_rejection (data that breaks the schema is
#      refused) and ignored_auth (no key, or a wrong one, is refused), bounded by ST_MAX_TIME
#      seconds;
#   4. stops the server and drops the database.
# Each role gets its own database so that what one role's run changes (score imports, retired
# products, withdrawn applications, revoked keys) cannot hide or cause anything in another's.
#
# Nothing is excluded: every operation and all six checks run for every role. The one thing
# steered is DELETE /api-keys/{id}: a hook turns a request that would revoke one of the demo keys
# (the run's own among them) into one that revokes a spare key made for the purpose, so that the
# run keeps its credentials; the script checks afterwards that the role's key still works.
#
# Environment (all optional):
#   ST_MAX_TIME      seconds of schemathesis per role (default 60: with the set-up of each role
#                    and an up-to-date build, the script takes about 5 minutes)
#   ST_MAX_EXAMPLES  examples per operation per fuzzing cycle (default 50)
#   ST_WORKERS       schemathesis workers (default 1: with more, CPython 3.11 can fail in
#                    ast.parse, "AST constructor recursion depth mismatch", inside hypothesis)
#   ST_SEED          fixed seed, to replay a run
#   ST_ROLES         subset of "admin park_office bank enterprise"
#   CI_DATABASE_URL  an existing database to connect to for CREATE/DROP DATABASE
#                    (default postgres://postgres@127.0.0.1/test)
#   CI_REDIS_URL     default redis://127.0.0.1:6379
# Reports (JUnit, NDJSON, console log) go to target/schemathesis/<role>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

ST_VERSION="4.32.5" # pinned: the 4.x CLI and config format differ from 3.x
ST_MAX_TIME="${ST_MAX_TIME:-60}"
ST_MAX_EXAMPLES="${ST_MAX_EXAMPLES:-50}"
ST_WORKERS="${ST_WORKERS:-1}"
ST_ROLES="${ST_ROLES:-admin park_office bank enterprise}"
PG_ADMIN_URL="${CI_DATABASE_URL:-postgres://postgres@127.0.0.1/test}"
REDIS_URL_ST="${CI_REDIS_URL:-redis://127.0.0.1:6379}"
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,ignored_auth"
VENV="$ROOT/.venv-schemathesis"
REPORTS="$ROOT/target/schemathesis"
RUN_ID="$(date +%s)_$$"

step() { printf '\n== %s ==\n' "$*"; }
started_all=$(date +%s)

# --- schemathesis, from PyPI, in a virtualenv --------------------------------------------------
step "schemathesis $ST_VERSION in .venv-schemathesis"
if [[ ! -x "$VENV/bin/st" ]] || [[ "$("$VENV/bin/st" --version 2>/dev/null)" != *"$ST_VERSION"* ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
"$VENV/bin/st" --version

# --- the server --------------------------------------------------------------------------------
step "cargo build --release"
cargo build --release
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/innoloan"

# --- per-run state and cleanup -----------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/innoloan-st.XXXXXX")"
ST_PID=""
TAIL_PID=""
DEMO_REDIS_URL="$REDIS_URL_ST"
# shellcheck source=.ci/demo-server.sh
source "$ROOT/.ci/demo-server.sh"

stop_server() {
  local pid
  for pid in "$ST_PID" "$TAIL_PID"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  ST_PID=""
  TAIL_PID=""
  stop_demo
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Writes $WORK/<role>/schemathesis.toml and hooks.py from ids that exist on the running server.
write_config() {
  local role="$1" admin_key="$2" role_key="$3"
  mkdir -p "$WORK/$role"
  python3 - "$BASE" "$admin_key" "$role_key" "$role" "$WORK/$role" <<'PY'
import datetime, json, random, sys, urllib.error, urllib.parse, urllib.request

base, admin_key, role_key, role, out = sys.argv[1:]
rng = random.Random(20221231)

def call(method, path, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        if exc.code in (403, 404):
            return None
        raise

def items(path, key):
    page = call("GET", path, key)
    return page["items"] if page else []

def ids(path, key):
    return [item["id"] for item in items(path, key)]

def merge(*lists, limit=60):
    seen = []
    for lst in lists:
        for value in lst:
            if value not in seen:
                seen.append(value)
    return seen[:limit]

def post(path, key, body=None):
    """POST, returning (status, JSON body) whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method="POST")
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")

def require(ok, what):
    if not ok:
        sys.exit(f"setting up the data set failed: {what}")

# The demo keys' scopes, from the admin's list of keys (the demo makes one key per role).
scope = {k["role"]: k for k in items("/api-keys?limit=500", admin_key)}
office_park = scope["park_office"]["park_id"]
bank_id = scope["bank"]["bank_id"]
firm_id = scope["enterprise"]["enterprise_id"]
bank_key = role_key if role == "bank" else None
firm_key = role_key if role == "enterprise" else None

# The demo holds only published products and decided applications. Add what the lifecycle
# operations act on, through the API: draft products of the demo bank, and open applications
# (submitted and under review) to its product, some by the demo enterprise. Each role's
# database gets the same.
def make_key(role_name, field, value):
    status, body = post("/api-keys", admin_key, {"name": f"schemathesis-setup-{role_name}",
                                                 "role": role_name, field: value})
    require(status == 201, f"POST /api-keys for a {role_name} key answered {status}: {body}")
    return body["secret"]
bank_key = bank_key or make_key("bank", "bank_id", bank_id)
firm_key = firm_key or make_key("enterprise", "enterprise_id", firm_id)

for i in range(3):
    status, body = post("/products", bank_key, {
        "code": f"st-draft-{i}", "name": f"schemathesis draft {i}", "credit_type": "pure_credit",
        "min_amount": 1000000, "max_amount": 500000000, "rate_bps_min": 350, "rate_bps_max": 600,
        "term_months_min": 6, "term_months_max": 36, "approval_sla_days": 5,
        "total_quota": 100000000000, "eligibility": {"min_score": 40, "park_ids": [office_park]}})
    require(status == 201, f"POST /products (draft) answered {status}: {body}")

bank_products = [p for p in items(f"/products?bank_id={bank_id}&status=published&limit=50", admin_key)]
require(bank_products, "the demo bank has no published product")
opened = []
for product in bank_products[:1]:
    for prospect in items(f"/products/{product['id']}/prospects?limit=40", bank_key)[20:32]:
        amount = max(product["min_amount"], min(prospect["offer_max_amount"], product["min_amount"] * 10))
        status, body = post("/applications", admin_key, {
            "product_id": product["id"], "enterprise_id": prospect["enterprise_id"], "amount": amount,
            "term_months": product["term_months_min"], "purpose": "schemathesis set-up"})
        if status == 201:
            opened.append(body["id"])
matches = call("GET", f"/enterprises/{firm_id}/matches", firm_key) or {"eligible": []}
for eligible in matches["eligible"]:
    product = eligible["product"]
    status, body = post("/applications", firm_key, {
        "product_id": product["id"], "amount": max(product["min_amount"], 1000000),
        "term_months": product["term_months_min"], "purpose": "schemathesis set-up"})
    if status == 201:
        opened.append(body["id"])
require(len(opened) >= 4, f"only {len(opened)} applications could be opened")
for app_id in opened[::3]:
    status, body = post(f"/applications/{app_id}/review", bank_key)
    # the demo enterprise's applications to other banks' products are not the demo bank's to review
    require(status in (200, 404), f"POST /applications/{app_id}/review answered {status}: {body}")

# What the role can see first, then some of what only the admin sees (out of scope: 404).
# An in-scope id is listed several times when there are few, so that it is drawn more often.
def weighted(in_scope, times=4):
    return [i for i in in_scope for _ in range(times if len(in_scope) < 5 else 1)]

parks = ids("/parks?limit=500", admin_key)
if role == "park_office":
    parks = weighted([office_park]) + parks
banks = ids("/banks?limit=500", admin_key)
if role == "bank":
    products_in_scope = ids(f"/products?bank_id={bank_id}&status=draft", admin_key) + \
                        ids(f"/products?bank_id={bank_id}", admin_key)
elif role == "enterprise":
    products_in_scope = [e["product"]["id"] for e in matches["eligible"]]
elif role == "park_office":
    products_in_scope = ids(f"/products?park_id={office_park}", admin_key)
else:
    products_in_scope = ids("/products?status=draft", admin_key)
products = merge(products_in_scope, ids("/products?limit=500", admin_key))
enterprises_in_scope = items("/enterprises?limit=25", role_key)
enterprises = weighted([e["id"] for e in enterprises_in_scope]) + \
    [i for i in merge(*[ids(f"/enterprises?park_id={p}&limit=3", admin_key) for p in merge(parks)])
     if i not in {e["id"] for e in enterprises_in_scope}]
statuses = ["submitted", "under_review", "approved", "rejected", "withdrawn"]
applications = merge(*[ids(f"/applications?status={s}&limit=8", role_key) for s in statuses],
                     *[ids(f"/applications?status={s}&limit=2", admin_key) for s in statuses])
# Credit lines with money left to draw, for disbursements; the demo's early lines are drawn in full.
lines_in_scope, drawable, cursor = [], [], None
for _ in range(10):
    page = call("GET", "/credit-lines?limit=500" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""), role_key)
    if not page:
        break
    lines_in_scope += page["items"]
    drawable += [l["id"] for l in page["items"] if l.get("available", 0) > 0]
    cursor = page.get("next_cursor")
    if len(drawable) >= 15 or not cursor:
        break
credit_lines = merge(drawable[:15], [l["id"] for l in lines_in_scope][:5], ids("/credit-lines?limit=5", admin_key))
usccs = [e["uscc"] for e in enterprises_in_scope] or \
        [e["uscc"] for e in items("/enterprises?limit=25", admin_key)]

# Score models (昆山 has the demo's), recommendation lists and their tasks.
score_models = merge(*[ids(f"/parks/{p}/score-models", admin_key) for p in parks])
lists = merge(ids("/recommendation-lists?limit=20", role_key), ids("/recommendation-lists?limit=20", admin_key))
tasks = merge(ids("/recommendation-tasks?status=open&limit=20", role_key),
              ids("/recommendation-tasks?limit=20", role_key), ids("/recommendation-tasks?limit=20", admin_key))

# Risk pools, their claims, and loans to claim on.
pools = merge(*[ids(f"/parks/{p}/risk-pools", admin_key) for p in parks])
claims = merge(ids("/risk-claims?limit=20", role_key), ids("/risk-claims?limit=20", admin_key))
loans = merge(ids("/loans?limit=20", role_key), ids("/loans?limit=20", admin_key))

# Subsidy programmes (成都 has the demo's) and their claims.
programs = merge(*[ids(f"/parks/{p}/subsidy-programs", admin_key) for p in parks])
subsidy_claims = merge(ids("/subsidy-claims?limit=20", role_key), ids("/subsidy-claims?limit=20", admin_key))

# Keys that exist to be revoked by DELETE /api-keys/{id} (see the hook below).
spare_keys = [call("POST", "/api-keys", admin_key,
                   {"name": f"schemathesis-spare-{i}", "role": "admin"})["id"] for i in range(12)]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def new_uscc():
    first = "91" + "510100" + "".join(rng.choice(ALPHABET) for _ in range(9))
    total = sum(ALPHABET.index(c) * w for c, w in zip(first, WEIGHTS))
    return first + ALPHABET[(31 - total % 31) % 31]

today = datetime.date.today()
past = [str(today - datetime.timedelta(days=d)) for d in (0, 1, 30, 400)]
future = [str(today + datetime.timedelta(days=d)) for d in (30, 365, 700)]

dictionaries = {
    "parks": parks, "banks": banks, "products": products, "enterprises": enterprises,
    "applications": applications, "credit_lines": credit_lines, "spare_keys": spare_keys,
    "usccs": usccs, "new_usccs": [new_uscc() for _ in range(40)],
    "score_models": score_models, "lists": lists, "tasks": tasks,
    "pools": pools, "claims": claims, "loans": loans,
    "programs": programs, "subsidy_claims": subsidy_claims,
    "task_answers": ["contacted", "declined", "credit_granted"],
    "periods": ["2021", "2022", "2023"], "past_dates": past, "future_dates": future,
    "stat_dates": ["2022-01-01", "2022-06-30", "2022-12-31", str(today)],
    "loan_amounts": [1000000, 5000000, 50000000, 100000000, 300000000],
    "small_amounts": [100, 100000, 1000000],
    "terms": [6, 12, 24, 36], "rates": [350, 400, 420, 450, 500],
    "scores": [42.5, 60, 75.25, 88, 97.5], "stages": ["startup", "growth", "mature"],
    "product_min_amounts": [1000000, 5000000], "product_max_amounts": [500000000, 1000000000],
    "rate_mins": [300, 350], "rate_maxes": [500, 600], "term_mins": [6, 12], "term_maxes": [24, 36],
    "sla_days": [5, 10], "quotas": [100000000000, 500000000000], "min_scores": [40, 60],
}
for name, values in dictionaries.items():
    if not values:
        sys.exit(f"no values for dictionary {name!r}: is the demo data set there?")

def binding(name, p=0.6):
    return {"dictionary": name, "probability": p}

ID = r"\{id\}"
# A product passes validation only when all its numbers agree, so they are drawn together often.
product_body = {
    "body.min_amount": binding("product_min_amounts", 0.85),
    "body.max_amount": binding("product_max_amounts", 0.85),
    "body.rate_bps_min": binding("rate_mins", 0.85), "body.rate_bps_max": binding("rate_maxes", 0.85),
    "body.term_months_min": binding("term_mins", 0.85), "body.term_months_max": binding("term_maxes", 0.85),
    "body.approval_sla_days": binding("sla_days", 0.85), "body.total_quota": binding("quotas", 0.85),
    "body.eligibility.min_score": binding("min_scores", 0.7),
    "body.eligibility.park_ids[*]": binding("parks", 0.8),
}
operations = [
    (rf"^/api/v1/parks/{ID}", {"path.id": binding("parks", 0.7), "query.period": binding("periods", 0.5),
                               "query.from": binding("stat_dates", 0.5), "query.to": binding("stat_dates", 0.5),
                               "body.period": binding("periods", 0.7),
                               "body.scores[*].uscc": binding("usccs", 0.8),
                               "body.scores[*].score": binding("scores", 0.8),
                               "body.scores[*].stage": binding("stages", 0.8),
                               "body.rows[*].uscc": binding("usccs", 0.8),
                               "body.rows[*].stage": binding("stages", 0.8),
                               "body.bank_ids[*]": binding("banks", 0.8),
                               "body.entries[*].enterprise_id": binding("enterprises", 0.8),
                               "body.product_ids[*]": binding("products", 0.8)}),
    (rf"^/api/v1/score-models/{ID}", {"path.id": binding("score_models", 0.7)}),
    (rf"^/api/v1/risk-pools/{ID}", {"path.id": binding("pools", 0.7), "body.loan_id": binding("loans", 0.7)}),
    (r"^/api/v1/risk-claims$", {"query.pool_id": binding("pools")}),
    (rf"^/api/v1/risk-claims/{ID}", {"path.id": binding("claims", 0.7)}),
    (rf"^/api/v1/subsidy-programs/{ID}", {"path.id": binding("programs", 0.7),
                                          "body.enterprise_id": binding("enterprises", 0.7),
                                          "body.from": binding("past_dates", 0.6),
                                          "body.to": binding("past_dates", 0.6)}),
    (r"^/api/v1/subsidy-claims$", {"query.program_id": binding("programs"),
                                   "query.enterprise_id": binding("enterprises")}),
    (rf"^/api/v1/subsidy-claims/{ID}", {"path.id": binding("subsidy_claims", 0.7)}),
    (r"^/api/v1/recommendation-lists$", {"query.park_id": binding("parks")}),
    (rf"^/api/v1/recommendation-lists/{ID}", {"path.id": binding("lists", 0.7)}),
    (r"^/api/v1/recommendation-tasks$", {"query.list_id": binding("lists"), "query.bank_id": binding("banks")}),
    (rf"^/api/v1/recommendation-tasks/{ID}", {"path.id": binding("tasks", 0.7),
                                              "body.status": binding("task_answers", 0.5),
                                              "body.credit_line_id": binding("credit_lines", 0.5),
                                              "body.application_id": binding("applications", 0.5)}),
    (rf"^/api/v1/banks/{ID}", {"path.id": binding("banks", 0.7)}),
    (rf"^/api/v1/enterprises/{ID}", {"path.id": binding("enterprises", 0.7)}),
    (r"^/api/v1/enterprises$", {"query.park_id": binding("parks"), "body.park_id": binding("parks", 0.8),
                                "body.uscc": binding("new_usccs", 0.8),
                                "body.founded_on": binding("past_dates", 0.5)}),
    (rf"^/api/v1/api-keys/{ID}$", {"path.id": binding("spare_keys", 0.7)}),
    (r"^/api/v1/api-keys$", {"body.park_id": binding("parks"), "body.bank_id": binding("banks"),
                             "body.enterprise_id": binding("enterprises")}),
    (r"^/api/v1/products$", {"query.bank_id": binding("banks"), "query.park_id": binding("parks"),
                             **product_body}),
    (rf"^/api/v1/products/{ID}", {"path.id": binding("products", 0.7), **product_body}),
    (r"^/api/v1/applications$", {"body.product_id": binding("products", 0.8),
                                 "body.enterprise_id": binding("enterprises"),
                                 "body.amount": binding("loan_amounts"), "body.term_months": binding("terms")}),
    (rf"^/api/v1/applications/{ID}", {"path.id": binding("applications", 0.7),
                                      "body.amount": binding("loan_amounts"), "body.term_months": binding("terms"),
                                      "body.rate_bps": binding("rates"),
                                      "body.expires_on": binding("future_dates", 0.7)}),
    (rf"^/api/v1/credit-lines/{ID}", {"path.id": binding("credit_lines", 0.7),
                                      "body.amount": binding("small_amounts", 0.6),
                                      "body.disbursed_on": binding("past_dates", 0.7)}),
    (r"^/api/v1/stats$", {"query.from": binding("stat_dates", 0.5), "query.to": binding("stat_dates", 0.5)}),
]

def toml(value):
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return json.dumps(value)

lines = ["# Generated by .ci/schemathesis.sh for the role " + role, "", "[dictionaries]"]
lines += [f"{name} = {{ values = {toml(values)} }}" for name, values in dictionaries.items()]
for regex, params in operations:
    lines += ["", "[[operations]]", f"include-path-regex = {toml(regex)}", f"parameters = {toml(params)}"]
with open(f"{out}/schemathesis.toml", "w") as f:
    f.write("\n".join(lines) + "\n")

# Dates are `format: date`, and the service accepts 1900-01-01 to 2200-12-31; most dates that
# schemathesis draws on its own lie in other millennia, so valid data keeps to recent years.
# And DELETE /api-keys/{id} must not revoke the demo keys (the run's own among them): every phase
# may send an id it saw in GET /api-keys, so a hook sends such a request to a spare key instead.
# Every other id, existing or not, goes out as generated.
protected = sorted(k["id"] for k in scope.values())
with open(f"{out}/hooks.py", "w") as f:
    f.write(
        "import datetime, itertools\n"
        "import schemathesis\n"
        "from hypothesis import strategies as st\n\n"
        "schemathesis.openapi.format('date', st.dates(datetime.date(1990, 1, 1),"
        " datetime.date(2040, 12, 31)).map(str))\n\n"
        f"PROTECTED = {sorted(int(i) for i in protected)!r}\n"
        f"SPARE = itertools.cycle({spare_keys!r})\n\n"
        "def as_int(value):\n"
        "    try:\n"
        "        return int(str(value).strip())\n"
        "    except ValueError:\n"
        "        return None\n\n"
        "@schemathesis.hook\n"
        "def before_call(context, case, kwargs):\n"
        "    if case.method.upper() == 'DELETE' and case.path.endswith('/api-keys/{id}') \\\n"
        "            and as_int((case.path_parameters or {}).get('id')) in PROTECTED:\n"
        "        case.path_parameters = {**case.path_parameters, 'id': next(SPARE)}\n"
    )
print(f"  ids: {len(parks)} parks, {len(banks)} banks, {len(products)} products, "
      f"{len(enterprises)} enterprises, {len(applications)} applications, "
      f"{len(credit_lines)} credit lines, {len(spare_keys)} spare keys")
PY
}

# --- one run per role --------------------------------------------------------------------------
declare -A LABEL=([admin]="admin " [park_office]="park office, " [bank]="bank, " [enterprise]="enterprise, ")
declare -a SUMMARY=()
overall=0

for role in $ST_ROLES; do
  [[ -n "${LABEL[$role]:-}" ]] || { echo "unknown role in ST_ROLES: $role"; exit 2; }
  step "schemathesis as $role"
  rm -rf "${REPORTS:?}/$role"
  mkdir -p "$REPORTS/$role"
  t0=$(date +%s)
  start_demo "st_$role" "$REPORTS/$role"
  admin_key="$(demo_key "admin ")"
  role_key="$(demo_key "${LABEL[$role]}")"
  if [[ -z "$admin_key" || -z "$role_key" ]]; then
    echo "could not read the demo keys from its output:"; cat "$DEMO_OUT"; exit 1
  fi
  write_config "$role" "$admin_key" "$role_key"

  seed_args=()
  [[ -n "${ST_SEED:-}" ]] && seed_args=(--seed "$ST_SEED")
  # In the background, so that an INT or TERM reaches the trap (and the cleanup) at once.
  (
    cd "$WORK/$role"
    exec env SCHEMATHESIS_HOOKS="$WORK/$role/hooks.py" "$VENV/bin/st" \
      --config-file "$WORK/$role/schemathesis.toml" \
      run "$BASE/openapi.json" \
      --header "Authorization: Bearer $role_key" \
      --checks "$CHECKS" \
      --max-time "$ST_MAX_TIME" \
      --max-examples "$ST_MAX_EXAMPLES" \
      --continue-on-failure \
      --workers "$ST_WORKERS" \
      --request-timeout 30 \
      --generation-database none \
      --no-color \
      --report junit,ndjson --report-dir "$REPORTS/$role" \
      "${seed_args[@]}"
  ) >"$REPORTS/$role/schemathesis.log" 2>&1 &
  ST_PID=$!
  tail -n +1 -f --pid="$ST_PID" "$REPORTS/$role/schemathesis.log" &
  TAIL_PID=$!
  rc=0
  wait "$ST_PID" || rc=$?
  ST_PID=""
  wait "$TAIL_PID" || true
  TAIL_PID=""

  # A run that revoked its own key would have spent its budget on 401s.
  key_state="key still valid"
  if ! http_ok "$BASE/api/v1/parks" "$role_key"; then
    key_state="KEY NO LONGER ACCEPTED (the run lost its credentials)"
    rc=1
  fi
  # Everything the run wrote went through the use cases: the statistics' totals may not drift.
  verified="totals verified"
  if ! verify_demo >"$REPORTS/$role/verify.log" 2>&1; then
    cat "$REPORTS/$role/verify.log"
    verified="TOTALS DRIFTED (innoloan verify)"
    rc=1
  fi
  stop_server
  result="$(grep -E '^=+ .* in [0-9.]+s =+$' "$REPORTS/$role/schemathesis.log" | tail -n 1 \
    | sed -E 's/^=+ //; s/ =+$//' || true)"
  if [[ "$rc" -eq 0 ]]; then status=PASS; else status=FAIL; overall=1; fi
  SUMMARY+=("$(printf 'schemathesis %-12s %s  (%s; %s; %s; %ds with setup; exit %d)' \
    "$role" "$status" "${result:-no summary}" "$key_state" "$verified" "$(( $(date +%s) - t0 ))" "$rc")")
done

step "summary"
printf '%s\n' "${SUMMARY[@]}"
echo "reports: $REPORTS/<role>/ ; total $(( $(date +%s) - started_all ))s"
exit "$overall"
