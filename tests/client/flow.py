#!/usr/bin/env python3
"""The whole innoloan flow, driven through the client that openapi-python-client generates.

Run by `.ci/client.sh`, which generates the client from openapi/openapi.yaml, starts `innoloan demo`
and puts the generated package on PYTHONPATH. Every call goes through the generated client (its
AuthenticatedClient and the `api.<tag>.<operation>.sync_detailed` functions); every step checks the
status code and that `response.parsed` is the typed model the document promises, all the way down
(no plain dict, no field the document does not describe, dates as `datetime.date`, enums as enums).

    python flow.py --base-url URL --admin-key KEY [--enterprise-key KEY] [--package innoloan_client]

The last line is `N passed, M failed`; the exit status is 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import datetime
import enum
import importlib
import inspect
import json
import os
import re
import sys
import time
import traceback
import uuid

import attrs


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Failure(Exception):
    """A step's check that did not hold."""


class Flow:
    def __init__(self, package: str, base_url: str, timeout: float) -> None:
        self.pkg = importlib.import_module(package)
        self.package = package
        self.base_url = base_url
        self.timeout = timeout
        self.models = importlib.import_module(f"{package}.models")
        self.types = importlib.import_module(f"{package}.types")
        self.passed = 0
        self.failed: list[str] = []
        self.ctx: dict[str, object] = {}
        self.problems: list[str] = []

    # --- the generated client -------------------------------------------------------------------
    def client(self, key: str):
        return self.pkg.AuthenticatedClient(
            base_url=self.base_url, token=key, timeout=self.timeout, raise_on_unexpected_status=False
        )

    def op(self, tag: str, operation: str):
        return importlib.import_module(f"{self.package}.api.{tag}.{operation}")

    def model(self, name: str):
        cls = getattr(self.models, name, None)
        if cls is None:
            raise Failure(f"the generated client has no model {name} (the generator dropped it)")
        return cls

    def need(self, name: str):
        if name not in self.ctx:
            raise Failure(f"blocked: needs {name!r}, which an earlier step did not produce")
        return self.ctx[name]

    def soft(self, message: str) -> None:
        """A problem that fails the step but lets it go on (so that later steps have their ids)."""
        self.problems.append(message)

    def date_for(self, model: str, field: str, day: datetime.date):
        """`day` as the generated request model wants it: a date when the document says
        `format: date`; otherwise its ISO string, and the step fails (the field is untyped)."""
        cls = self.model(model)
        typ = attrs.fields_dict(cls)[field].type
        if "date" in str(typ):
            return day
        self.soft(f"{model}.{field} is typed {typ!r} in the generated client, not datetime.date")
        return day.isoformat()

    def date_param(self, tag: str, operation: str, name: str, day: datetime.date):
        """`day` as the generated operation wants a query parameter: as `date_for`, for parameters."""
        fn = self.op(tag, operation).sync_detailed
        typ = inspect.signature(fn).parameters[name].annotation
        if "date" in str(typ):
            return day
        self.soft(f"{tag}.{operation}({name}=...) is typed {typ!r} in the generated client, not datetime.date")
        return day.isoformat()

    # --- calling and checking -------------------------------------------------------------------
    def call(self, tag, operation, *args, client, status, model, **kwargs):
        """Calls `api.<tag>.<operation>.sync_detailed` and checks the status and the parsed type."""
        mod = self.op(tag, operation)
        cls = getattr(self.models, model, None) if model else None
        if model and cls is None:  # still call, so that later steps get their ids from the raw body
            self.soft(f"the generated client has no model {model} (the generator dropped it)")
        try:
            resp = mod.sync_detailed(*args, client=client, **kwargs)
        except Exception as exc:  # the generated parser raised on the body the server sent
            raise Failure(f"{tag}.{operation} raised {type(exc).__name__}: {exc}") from exc
        if int(resp.status_code) != status:
            raise Failure(
                f"{tag}.{operation}: status {int(resp.status_code)}, expected {status}; body: "
                f"{resp.content.decode(errors='replace')[:800]}"
            )
        if cls is not None:
            if not isinstance(resp.parsed, cls):
                self.soft(
                    f"{tag}.{operation}: parsed is {type(resp.parsed).__name__}, expected {model}; "
                    f"body: {resp.content.decode(errors='replace')[:300]}"
                )
            else:
                for problem in untyped(resp.parsed, model):
                    self.soft(f"{tag}.{operation}: {problem}")
        return resp

    def run(self, name: str, fn) -> None:
        self.problems = []
        started = time.monotonic()
        try:
            fn()
        except Failure as exc:
            self.problems.append(str(exc))
        except Exception as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}")
        elapsed = (time.monotonic() - started) * 1000
        if self.problems:
            self.failed.append(name)
            print(f"FAIL {name} ({elapsed:.0f} ms)")
            for problem in dict.fromkeys(self.problems):  # once each, in order
                print("     " + problem.replace("\n", "\n     "))
        else:
            self.passed += 1
            print(f"ok   {name} ({elapsed:.0f} ms)")


def raw(resp) -> dict:
    """The body as JSON, to salvage ids when the typed parse failed."""
    try:
        return json.loads(resp.content or b"null") or {}
    except ValueError:
        return {}


def field(parsed, resp, *path):
    """parsed.<path>, or the same path in the raw JSON when the typed parse failed."""
    value = parsed
    try:
        for name in path:
            value = getattr(value, name)
        if type(value).__name__ != "Unset":
            return value
    except AttributeError:
        pass
    value = raw(resp)
    for name in path:
        value = value[name]
    return value


def untyped(value, where: str) -> list[str]:
    """Everything in a parsed value that is not typed: plain dicts, fields the document does not
    describe (they land in `additional_properties`), anything that is not a model, an enum, a list
    of those or a scalar."""
    problems: list[str] = []
    if attrs.has(type(value)):
        names = [f.name for f in attrs.fields(type(value))]
        extra = getattr(value, "additional_properties", {})
        if names == ["additional_properties"]:  # a map (additionalProperties): check its values
            for key, item in extra.items():
                problems += untyped(item, f"{where}[{key!r}]")
        else:
            if extra:
                problems.append(f"{where} has fields the document does not describe: {sorted(extra)}")
            for fld in attrs.fields(type(value)):
                if fld.name == "additional_properties":
                    continue
                item = getattr(value, fld.name)
                if item is None and "None" not in str(fld.type):  # from_dict does not check this
                    problems.append(f"{where}.{fld.name} is null, but the document types it {fld.type}")
                problems += untyped(item, f"{where}.{fld.name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += untyped(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        problems.append(f"{where} is an untyped dict: {json.dumps(value, default=str)[:120]}")
    elif isinstance(value, str) and not isinstance(value, enum.Enum) and DATE.fullmatch(value):
        problems.append(f"{where} is the string {value!r}, not a datetime.date")
    elif value is None or isinstance(
        value, (str, int, float, bool, enum.Enum, datetime.date, datetime.datetime)
    ) or type(value).__name__ == "Unset":
        pass
    else:
        problems.append(f"{where} has an unexpected type {type(value).__name__}")
    return problems


# --- USCC (GB 32100-2015), as src/domain/uscc.rs ------------------------------------------------
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return first17 + ALPHABET[(31 - total % 31) % 31]


def new_uscc(seed: str, n: int) -> str:
    """A fresh valid USCC: 91 (enterprise), an area code, then 9 characters from the run's seed."""
    body = "".join(ALPHABET[int(c, 16) % 31] for c in seed[:7]) + f"{n:02d}"
    return uscc("91" + "510100" + body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", default=os.environ.get("INNOLOAN_BASE_URL"))
    ap.add_argument("--admin-key", default=os.environ.get("INNOLOAN_ADMIN_KEY"))
    ap.add_argument("--enterprise-key", default=os.environ.get("INNOLOAN_ENTERPRISE_KEY"),
                    help="another enterprise's key (the demo's), for a scope check")
    ap.add_argument("--package", default=os.environ.get("INNOLOAN_CLIENT_PACKAGE", "innoloan_client"))
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()
    if not args.base_url or not args.admin_key:
        ap.error("--base-url and --admin-key are required")

    f = Flow(args.package, args.base_url.rstrip("/"), args.timeout)
    M = f.model
    c = f.ctx
    admin = f.client(args.admin_key)
    run = uuid.uuid4().hex[:10]
    today = datetime.datetime.now(datetime.timezone.utc).date()  # the server counts days in UTC
    period = str(today.year)

    # --- directory ------------------------------------------------------------------------------
    def create_park():
        r = f.call("parks", "create_park", client=admin, status=201, model="Park",
                   body=M("NewPark")(code=f"flow-{run}", name=f"流程测试园区 {run}", region="四川省成都市"))
        c["park_id"] = field(r.parsed, r, "id")
    f.run("directory: admin creates a park", create_park)

    def create_bank():
        r = f.call("banks", "create_bank", client=admin, status=201, model="Bank",
                   body=M("NewBank")(code=f"flow-bank-{run}", name=f"流程测试银行 {run}"))
        c["bank_id"] = field(r.parsed, r, "id")
    f.run("directory: admin creates a bank", create_bank)

    # --- API keys -------------------------------------------------------------------------------
    def make_key(role: str, label: str, **scope):
        def step():
            ids = {k: f.need(v) for k, v in scope.items()}
            r = f.call("api_keys", "create_api_key", client=admin, status=201, model="CreatedApiKey",
                       body=M("NewApiKey")(name=f"flow-{label}-{run}", role=M("Role")(role), **ids))
            parsed = r.parsed
            if isinstance(parsed, M("CreatedApiKey")):
                if not isinstance(parsed.role, M("Role")) or parsed.role.value != role:
                    f.soft(f"role is {parsed.role!r}, expected Role({role!r})")
                if not isinstance(parsed.created_at, datetime.datetime):
                    f.soft(f"created_at is {type(parsed.created_at).__name__}, not datetime")
            secret = field(parsed, r, "secret")
            if not isinstance(secret, str) or not secret:
                raise Failure(f"no secret in the answer: {r.content[:200]!r}")
            c[f"{label}_key"] = secret
            c[f"{label}_key_id"] = field(parsed, r, "id")
            c[f"{label}_client"] = f.client(secret)
        return step

    f.run("keys: admin creates a park_office key for the new park",
          make_key("park_office", "office", park_id="park_id"))
    f.run("keys: admin creates a bank key for the new bank", make_key("bank", "bank", bank_id="bank_id"))

    def register(n: int, name: str, qualifications):
        def step():
            office = f.need("office_client")
            code = new_uscc(run, n)
            body = M("NewEnterprise")(
                uscc=code, name=name, park_id=f.need("park_id"), industry="software",
                size=M("EnterpriseSize")("small"),
                founded_on=f.date_for("NewEnterprise", "founded_on", datetime.date(2015, 6, 1)),
                qualifications=[M("Qualification")(q) for q in qualifications])
            r = f.call("enterprises", "create_enterprise", client=office, status=201, model="Enterprise",
                       body=body)
            if isinstance(r.parsed, M("Enterprise")):
                if not isinstance(r.parsed.founded_on, datetime.date):
                    f.soft(f"Enterprise.founded_on is {type(r.parsed.founded_on).__name__}, not date")
                if r.parsed.uscc != code:
                    f.soft(f"uscc is {r.parsed.uscc}, sent {code}")
            c[f"enterprise{n}_id"] = field(r.parsed, r, "id")
            c[f"enterprise{n}_uscc"] = code
        return step

    f.run("directory: the park office registers an enterprise (valid USCC)",
          register(1, f"成都流程科技有限公司 {run}", ["tech_sme", "high_tech_enterprise"]))
    f.run("directory: the park office registers a second enterprise",
          register(2, f"成都第二流程科技有限公司 {run}", ["tech_sme"]))

    f.run("keys: admin creates an enterprise key",
          make_key("enterprise", "firm", enterprise_id="enterprise1_id"))

    def keys_listed_without_secret():
        r = f.call("api_keys", "list_api_keys", client=admin, status=200, model="ListApiKey", limit=500)
        wanted = {f.need("office_key_id"), f.need("bank_key_id"), f.need("firm_key_id")}
        seen = {k.id: k for k in r.parsed.items if k.id in wanted}
        if set(seen) != wanted:
            # the new keys are the newest; with more than 500 keys they could be on a later page
            f.soft(f"the new keys are not all on the first page: {sorted(wanted - set(seen))}")
        for k in seen.values():
            if "secret" in k.additional_properties or not isinstance(getattr(k, "secret", f.types.UNSET),
                                                                     f.types.Unset):
                f.soft(f"key {k.id} is listed with its secret")
    f.run("keys: listed, without their secrets", keys_listed_without_secret)

    # --- products (lifecycle), before any score ---------------------------------------------------
    def create_product():
        bank = f.need("bank_client")
        r = f.call("products", "create_product", client=bank, status=201, model="ProductView",
                   body=M("NewProduct")(
                       code=f"flow-{run}", name=f"流程积分贷 {run}", credit_type=M("CreditType")("pure_credit"),
                       min_amount=1_000_000, max_amount=300_000_000, rate_bps_min=350, rate_bps_max=600,
                       term_months_min=6, term_months_max=36, approval_sla_days=5,
                       total_quota=10_000_000_000,
                       eligibility=M("EligibilityRules")(min_score=60.0, park_ids=[f.need("park_id")]),
                       amount_tiers=[M("AmountTierView")(min_score=60.0, max_amount=100_000_000),
                                     M("AmountTierView")(min_score=90.0, max_amount=300_000_000)]))
        if isinstance(r.parsed, M("ProductView")) and r.parsed.status != M("ProductStatus")("draft"):
            f.soft(f"a new product is {r.parsed.status!r}, not draft")
        c["product_id"] = field(r.parsed, r, "id")
    f.run("products: the bank creates a draft", create_product)

    def product_action(operation: str, expected: str, **kwargs):
        def step():
            r = f.call("products", operation, f.need("product_id"), client=f.need("bank_client"),
                       status=200, model="ProductView", **kwargs)
            status = field(r.parsed, r, "status")
            if not isinstance(status, M("ProductStatus")) or status.value != expected:
                f.soft(f"status is {status!r}, expected ProductStatus({expected!r})")
            return r
        return step

    def patch_product():
        r = product_action("update_product", "draft",
                           body=M("ProductPatch")(description="由流程测试修改", rate_bps_max=550))()
        if isinstance(r.parsed, M("ProductView")) and (r.parsed.rate_bps_max, r.parsed.description) != (
                550, "由流程测试修改"):
            f.soft(f"the patch did not take: rate_bps_max={r.parsed.rate_bps_max}")
    f.run("products: the bank patches the draft", patch_product)
    f.run("products: the bank publishes it", product_action("publish_product", "published"))
    f.run("products: the bank suspends it", product_action("suspend_product", "suspended"))
    f.run("products: the bank publishes it again", product_action("publish_product", "published"))

    def matches(before: bool):
        def step():
            r = f.call("products", "get_enterprise_matches", f.need("enterprise1_id"),
                       client=f.need("firm_client"), status=200, model="Matches")
            m = r.parsed
            if not isinstance(m, M("Matches")):
                return
            pid = f.need("product_id")
            eligible = [e for e in m.eligible if e.product.id == pid]
            ineligible = [e for e in m.ineligible if e.product.id == pid]
            if before:
                if m.score is not None:
                    f.soft(f"score is {m.score!r} before any import, expected None")
                if eligible or not ineligible:
                    f.soft("the product should be ineligible before a score")
                elif "min_score" not in {d.rule for d in ineligible[0].failed}:
                    f.soft(f"failed rules {[d.rule for d in ineligible[0].failed]} lack min_score")
            else:
                if not isinstance(m.score, M("MatchScore")):
                    f.soft(f"score is {type(m.score).__name__}, expected MatchScore")
                elif (m.score.period, m.score.rank) != (period, 1):
                    f.soft(f"score is {m.score}, expected period {period}, rank 1")
                if not eligible:
                    f.soft(f"the product is not eligible after the import: "
                           f"{[[d.message for d in e.failed] for e in ineligible]}")
                elif not isinstance(eligible[0].product, M("ProductSummary")):
                    f.soft(f"the product is a {type(eligible[0].product).__name__}, expected a ProductSummary")
                elif eligible[0].offer_max_amount != 300_000_000:
                    f.soft(f"offer_max_amount is {eligible[0].offer_max_amount}, expected the 90-point tier")
        return step

    f.run("matches: before a score (score is None, min_score fails)", matches(before=True))

    # --- scores ---------------------------------------------------------------------------------
    def import_scores():
        rows = [M("ScoreImportRow")(uscc=f.need("enterprise1_uscc"), score=92.5, stage=M("Stage")("growth")),
                M("ScoreImportRow")(uscc=f.need("enterprise2_uscc"), score=71.25, stage=M("Stage")("startup"))]
        indicators = M("ScoreImportRowIndicators")()
        indicators["研发费用金额"] = 3_000_000
        rows[0].indicators = indicators
        r = f.call("scores", "import_scores", f.need("park_id"), client=f.need("office_client"),
                   status=201, model="ImportResult", body=M("ScoreImport")(period=period, scores=rows))
        if isinstance(r.parsed, M("ImportResult")) and (r.parsed.imported, r.parsed.ranked) != (2, 2):
            f.soft(f"imported {r.parsed.imported}, ranked {r.parsed.ranked}; expected 2 and 2")
    f.run("scores: the park office imports a period (JSON)", import_scores)

    def ranking():
        r = f.call("scores", "get_park_ranking", f.need("park_id"), client=f.need("firm_client"),
                   status=200, model="Ranking", period=period, limit=100)
        got = [(e.enterprise_id, e.rank) for e in r.parsed.items]
        want = [(f.need("enterprise1_id"), 1), (f.need("enterprise2_id"), 2)]
        if got != want:
            f.soft(f"ranking is {got}, expected {want}")
        if r.parsed.next_cursor is not None:
            f.soft(f"next_cursor is {r.parsed.next_cursor!r} on the only page")
    f.run("scores: the ranking, best first", ranking)

    def score():
        r = f.call("scores", "get_enterprise_score", f.need("enterprise1_id"), client=f.need("firm_client"),
                   status=200, model="ScoreView")
        s = r.parsed
        if not isinstance(s.stage, M("Stage")) or s.stage.value != "growth":
            f.soft(f"stage is {s.stage!r}, expected Stage('growth')")
        if (s.score, s.rank, s.park_size) != (92.5, 1, 2):
            f.soft(f"score/rank/park_size are {(s.score, s.rank, s.park_size)}")
        if not isinstance(s.imported_at, datetime.datetime):
            f.soft(f"imported_at is {type(s.imported_at).__name__}")
    f.run("scores: the enterprise reads its score", score)

    f.run("matches: after the import (score typed, product eligible)", matches(before=False))

    def prospects():
        r = f.call("products", "list_product_prospects", f.need("product_id"), client=f.need("bank_client"),
                   status=200, model="ListProspectView")
        got = [p.enterprise_id for p in r.parsed.items]
        if got[:2] != [f.need("enterprise1_id"), f.need("enterprise2_id")]:
            f.soft(f"prospects are {got}, expected the two enterprises, best score first")
    f.run("products: the bank lists its prospects", prospects)

    # --- applications ---------------------------------------------------------------------------
    def apply():
        r = f.call("applications", "create_application", client=f.need("firm_client"), status=201,
                   model="ApplicationView", idempotency_key=f"flow-apply-{run}",
                   body=M("NewApplicationBody")(product_id=f.need("product_id"), amount=200_000_000,
                                                term_months=12, purpose="研发投入"))
        status = field(r.parsed, r, "status")
        if not isinstance(status, M("ApplicationStatus")) or status.value != "submitted":
            f.soft(f"status is {status!r}, expected submitted")
        c["application_id"] = field(r.parsed, r, "id")
    f.run("applications: the enterprise applies", apply)

    def review():
        r = f.call("applications", "review_application", f.need("application_id"), client=f.need("bank_client"),
                   status=200, model="ApplicationView")
        status = field(r.parsed, r, "status")
        if not isinstance(status, M("ApplicationStatus")) or status.value != "under_review":
            f.soft(f"status is {status!r}, expected under_review")
    f.run("applications: the bank reviews", review)

    def approve():
        expires = today + datetime.timedelta(days=365)
        r = f.call("applications", "approve_application", f.need("application_id"),
                   client=f.need("bank_client"), status=200, model="ApprovalResult",
                   idempotency_key=f"flow-approve-{run}",
                   body=M("ApprovalBody")(amount=200_000_000, rate_bps=420, term_months=12,
                                          expires_on=f.date_for("ApprovalBody", "expires_on", expires)))
        c["credit_line_id"] = field(r.parsed, r, "credit_line", "id")
        res = r.parsed
        if isinstance(res, M("ApprovalResult")):
            if res.application.status != M("ApplicationStatus")("approved"):
                f.soft(f"application status is {res.application.status!r}")
            line = res.credit_line
            if not isinstance(line, M("CreditLineView")):
                f.soft(f"credit_line is {type(line).__name__}")
            else:
                if line.expires_on != expires:
                    f.soft(f"expires_on is {line.expires_on!r}, expected {expires!r} (a date)")
                if line.status != M("CreditLineStatus")("active"):
                    f.soft(f"credit line status is {line.status!r}")
                if (line.amount, line.available, line.disbursed_total) != (200_000_000, 200_000_000, 0):
                    f.soft(f"amount/available/disbursed_total are "
                           f"{(line.amount, line.available, line.disbursed_total)}")
    f.run("applications: the bank approves (200, {application, credit_line})", approve)

    def get_line(expect_available: int | None = None):
        def step():
            r = f.call("credit_lines", "get_credit_line", f.need("credit_line_id"),
                       client=f.need("firm_client"), status=200, model="CreditLineView")
            line = r.parsed
            if isinstance(line, M("CreditLineView")):
                if not isinstance(line.status, M("CreditLineStatus")):
                    f.soft(f"status is {type(line.status).__name__}, not CreditLineStatus")
                if not isinstance(line.expires_on, datetime.date) or isinstance(line.expires_on, datetime.datetime):
                    f.soft(f"expires_on is {type(line.expires_on).__name__}, not date")
                if expect_available is not None and line.available != expect_available:
                    f.soft(f"available is {line.available}, expected {expect_available}")
        return step
    f.run("credit lines: the enterprise reads its line", get_line(200_000_000))

    # --- disbursements, replay and overdraw -----------------------------------------------------
    def disburse(amount: int, ref: str, key: str):
        r = f.call("credit_lines", "create_disbursement", f.need("credit_line_id"), client=f.need("bank_client"),
                   status=201, model="DisbursementView", idempotency_key=key,
                   body=M("NewDisbursement")(amount=amount, reference=ref,
                                             disbursed_on=f.date_for("NewDisbursement", "disbursed_on", today)))
        d = r.parsed
        if isinstance(d, M("DisbursementView")) and d.disbursed_on != today:
            f.soft(f"disbursed_on is {d.disbursed_on!r}, expected {today!r} (a date)")
        return r

    def first_disbursement():
        r = disburse(50_000_000, f"FLOW-{run}-1", f"flow-disb-{run}-1")
        if r.headers.get("idempotent-replayed") not in (None, "false"):
            f.soft(f"a first request says Idempotent-Replayed: {r.headers.get('idempotent-replayed')}")
        c["disbursement_id"] = field(r.parsed, r, "id")
    f.run("disbursements: the bank records one (today)", first_disbursement)

    def replay():
        r = disburse(50_000_000, f"FLOW-{run}-1", f"flow-disb-{run}-1")
        if field(r.parsed, r, "id") != f.need("disbursement_id"):
            f.soft(f"the replay answered id {field(r.parsed, r, 'id')}, the first {c['disbursement_id']}")
        if r.headers.get("idempotent-replayed") != "true":
            f.soft(f"Idempotent-Replayed is {r.headers.get('idempotent-replayed')!r}, expected 'true'")
    f.run("idempotency: the same Idempotency-Key replays the same disbursement", replay)

    def second_disbursement():
        disburse(30_000_000, f"FLOW-{run}-2", f"flow-disb-{run}-2")
    f.run("disbursements: a second one", second_disbursement)
    f.run("credit lines: available counts each disbursement once", get_line(120_000_000))

    def overdraw():
        r = f.call("credit_lines", "create_disbursement", f.need("credit_line_id"), client=f.need("bank_client"),
                   status=422, model="ErrorBody", idempotency_key=f"flow-disb-{run}-over",
                   body=M("NewDisbursement")(amount=120_000_001, reference=f"FLOW-{run}-over",
                                             disbursed_on=f.date_for("NewDisbursement", "disbursed_on", today)))
        if isinstance(r.parsed, M("ErrorBody")):
            code = r.parsed.error.code
            if getattr(code, "value", code) != "exceeds_available":
                f.soft(f"error code is {code!r}, expected exceeds_available")
            if not isinstance(r.parsed.error, M("ErrorInfo")):
                f.soft(f"error is {type(r.parsed.error).__name__}")
    f.run("disbursements: an overdraw is 422 exceeds_available (typed ErrorBody)", overdraw)
    f.run("credit lines: the overdraw left the line alone", get_line(120_000_000))

    def scope():
        if not args.enterprise_key:
            return
        r = f.call("credit_lines", "get_credit_line", f.need("credit_line_id"),
                   client=f.client(args.enterprise_key), status=404, model="ErrorBody")
        if isinstance(r.parsed, M("ErrorBody")) and getattr(r.parsed.error.code, "value",
                                                             r.parsed.error.code) != "not_found":
            f.soft(f"code is {r.parsed.error.code!r}, expected not_found")
    f.run("scope: another enterprise gets 404 not_found (typed ErrorBody)", scope)

    # --- cursors --------------------------------------------------------------------------------
    def pages(tag, operation, list_model, *args, client, **kwargs):
        """Every item of a list, one per page (limit=1), following next_cursor."""
        seen, cursor = [], f.types.UNSET
        for _ in range(20):
            r = f.call(tag, operation, *args, client=client, status=200, model=list_model, limit=1,
                       cursor=cursor, **kwargs)
            page = r.parsed
            if not isinstance(page, f.model(list_model)):
                raise Failure("cannot follow an untyped page")
            if len(page.items) > 1:
                f.soft(f"limit=1 gave {len(page.items)} items")
            seen += page.items
            if page.next_cursor is None:
                return seen
            if not isinstance(page.next_cursor, str):
                raise Failure(f"next_cursor is {type(page.next_cursor).__name__}")
            cursor = page.next_cursor
        raise Failure("more than 20 pages")

    def enterprise_pages():
        items = pages("enterprises", "list_enterprises", "ListEnterprise", client=f.need("office_client"),
                      park_id=f.need("park_id"))
        ids = [e.id for e in items]
        if sorted(ids) != sorted([f.need("enterprise1_id"), f.need("enterprise2_id")]):
            f.soft(f"pages gave {ids}, expected the two enterprises once each")
        for e in items:
            if not isinstance(e.size, M("EnterpriseSize")) or not isinstance(e.founded_on, datetime.date):
                f.soft(f"enterprise {e.id}: size {e.size!r}, founded_on {e.founded_on!r}")
    f.run("cursors: the park's enterprises, limit=1, following next_cursor", enterprise_pages)

    def disbursement_pages():
        items = pages("credit_lines", "list_disbursements", "ListDisbursementView", f.need("credit_line_id"),
                      client=f.need("bank_client"))
        ids = [d.id for d in items]
        if len(ids) != 2 or len(set(ids)) != 2 or f.need("disbursement_id") not in ids:
            f.soft(f"pages gave {ids}, expected the two disbursements once each")
    f.run("cursors: the line's disbursements, limit=1, following next_cursor", disbursement_pages)

    def line_pages():
        ids = [line.id for line in pages("credit_lines", "list_credit_lines", "ListCreditLineView",
                                          client=f.need("firm_client"))]
        if ids != [f.need("credit_line_id")]:
            f.soft(f"the enterprise's lines are {ids}, expected only {c['credit_line_id']}")
    f.run("cursors: the enterprise's credit lines, limit=1", line_pages)

    # --- statistics -----------------------------------------------------------------------------
    def park_stats():
        r = f.call("stats", "get_park_stats", f.need("park_id"), client=f.need("office_client"), status=200,
                   model="ParkStats")
        s = r.parsed
        got = (s.enterprises_registered, s.enterprises_scored, s.enterprises_with_credit, s.credit_lines,
               s.credit_granted, s.disbursement_count, s.disbursed)
        want = (2, 2, 1, 1, 200_000_000, 2, 80_000_000)
        if got != want:
            f.soft(f"(registered, scored, with_credit, lines, granted, disbursements, disbursed) = {got}, "
                   f"expected {want}")
        if s.applications.approved != 1:
            f.soft(f"applications.approved is {s.applications.approved}")
        banks = [(b.bank_id, b.credit_granted, b.disbursed) for b in s.banks]
        if banks != [(f.need("bank_id"), 200_000_000, 80_000_000)]:
            f.soft(f"banks are {banks}")
        if [p.product_id for p in s.products] != [f.need("product_id")]:
            f.soft(f"products are {[p.product_id for p in s.products]}")
    f.run("statistics: the park office reads its park's statistics", park_stats)

    def park_stats_window():
        r = f.call("stats", "get_park_stats", f.need("park_id"), client=admin, status=200, model="ParkStats",
                   from_=f.date_param("stats", "get_park_stats", "from_", today),
                   to=f.date_param("stats", "get_park_stats", "to", today))
        if r.parsed.disbursed != 80_000_000:
            f.soft(f"disbursed today is {r.parsed.disbursed}")
        if not isinstance(r.parsed.from_, datetime.date) or r.parsed.from_ != today:
            f.soft(f"from is {r.parsed.from_!r}, expected {today!r}")
    f.run("statistics: the same for today only (from/to as dates)", park_stats_window)

    def monthly():
        r = f.call("stats", "get_park_monthly_stats", f.need("park_id"), client=f.need("office_client"),
                   status=200, model="MonthlyStats")
        months = [m for m in r.parsed.months if m.credit_granted or m.disbursed]
        if [(m.credit_granted, m.disbursed) for m in months] != [(200_000_000, 80_000_000)]:
            f.soft(f"months with activity: {[m.to_dict() for m in months]}")
    f.run("statistics: the park's monthly series", monthly)

    def national():
        r = f.call("stats", "get_national_stats", client=admin, status=200, model="NationalStats")
        rows = [p for p in r.parsed.parks if p.park_id == f.need("park_id")]
        if len(rows) != 1 or rows[0].credit_granted != 200_000_000:
            f.soft(f"the new park's row is {[p.to_dict() for p in rows]}")
    f.run("statistics: the admin reads national statistics", national)

    total = f.passed + len(f.failed)
    if f.failed:
        print("\nfailed steps:")
        for name in f.failed:
            print("  - " + name)
    print(f"{f.passed} passed, {len(f.failed)} failed")
    return 0 if not f.failed and total else 1


if __name__ == "__main__":
    sys.exit(main())
