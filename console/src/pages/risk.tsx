// Risk-compensation pools (风险补偿资金池): a park office opens a pool over some of its loan
// products, tops it up, and decides the claims banks file for their bad enrolled loans; a bank
// files claims and follows them.
import { useState } from "preact/hooks";
import { ApiFailure, api, unwrap, type Schemas } from "../api/client";
import { bps, day, figure, toFen } from "../format";
import { t, word } from "../i18n";
import { BankName, EnterpriseName, useBankNames } from "../names";
import { Action, type Column, ErrorBox, Field, Form, Money, Paged, Show, Table, text, useLoad } from "../ui";

type Pool = Schemas["RiskPoolView"];
type Claim = Schemas["RiskClaimView"];

/** 放大倍数: enrolled principal outstanding per yuan in the pool, as 1:x. */
export function leverage(pool: Pool): string {
  return pool.leverage === null ? "—" : `1:${figure(pool.leverage, 2)}`;
}

/** The columns of a pool's figures: in the pool list and in the park's statistics. */
function poolColumns(link: boolean): Column<Pool>[] {
  return [
    {
      label: t("资金池", "Pool"),
      cell: (p) => (link ? <a href={`#/pools/${p.id}`}>{p.name}</a> : p.name),
    },
    { label: t("余额", "Balance"), cell: (p) => <Money fen={p.balance} />, numeric: true },
    { label: t("在保贷款余额", "Enrolled outstanding"), cell: (p) => <Money fen={p.enrolled_outstanding} />, numeric: true },
    { label: t("放大倍数", "Leverage"), cell: (p) => <span data-leverage>{leverage(p)}</span>, numeric: true },
    { label: t("已代偿笔数", "Claims paid"), cell: (p) => p.claims_paid, numeric: true },
    { label: t("已代偿金额", "Paid out"), cell: (p) => <Money fen={p.paid} />, numeric: true },
    { label: t("补偿比例", "Coverage"), cell: (p) => bps(p.coverage_bps), numeric: true },
    { label: t("单笔上限", "Cap per loan"), cell: (p) => <Money fen={p.per_loan_cap} />, numeric: true },
    { label: t("入池放款期间", "Enrolment window"), cell: (p) => `${p.enrol_from} – ${p.enrol_to}` },
  ];
}

/** The park statistics' pools, on the dashboard. */
export function RiskPoolShares({ pools, link }: { pools: Pool[]; link?: boolean }) {
  return (
    <>
      <h2>{t("风险补偿资金池", "Risk-compensation pools")}</h2>
      <Table
        caption={t("风险补偿资金池", "Risk pools")}
        rows={pools}
        columns={poolColumns(Boolean(link))}
        empty={t("园区尚未设立风险补偿资金池。", "The park has no risk-compensation pool.")}
      />
    </>
  );
}

/** The status filter of a list of claims: risk claims and subsidy claims alike. */
export function ClaimStatusFilter({ name, value, onChange }: { name: string; value: string; onChange: (v: string) => void }) {
  return (
    <div class="filters">
      <Field label={t("状态", "Status")}>
        <select name={name} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">{t("全部", "All")}</option>
          <option value="filed">{t("待审核", "filed")}</option>
          <option value="approved">{word("approved")}</option>
          <option value="rejected">{word("rejected")}</option>
        </select>
      </Field>
    </div>
  );
}

/** A claim's status in words: a risk claim's or a subsidy claim's. */
export function ClaimState({ claim }: { claim: { status: Schemas["ClaimStatus"] } }) {
  return <span data-status={claim.status}>{claim.status === "filed" ? t("待审核", "filed") : word(claim.status)}</span>;
}

/** The park office's pool pages: the list with the form to open one, and each pool. */
export function RiskPoolPages({ park, route }: { park: string; route: string[] }) {
  return route[0] ? <PoolDetail id={route[0]} /> : <Pools park={park} />;
}

/** The park's products, for the pool form and for naming a pool's products. */
function useProducts(park: string) {
  return useLoad(async () => {
    const products: Schemas["ProductView"][] = [];
    let cursor: string | undefined;
    do {
      const page = await unwrap(
        api.GET("/api/v1/products", { params: { query: { park_id: park, limit: 100, ...(cursor ? { cursor } : {}) } } }),
      );
      products.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return products;
  }, [park]);
}

function Pools({ park }: { park: string }) {
  const [changed, setChanged] = useState(0);
  const products = useProducts(park);
  const banks = useBankNames();
  return (
    <section>
      <h1>{t("风险补偿资金池", "Risk-compensation pools")}</h1>
      <p>
        {t(
          "园区出资设立资金池，覆盖所选产品在入池期间内发放的贷款。贷款成为不良后，银行申请代偿：按未还本金乘以补偿比例计算，不超过单笔上限；园区审核通过后从资金池支付。放大倍数为在保贷款余额与资金池余额之比。",
          "The park funds a pool covering the loans drawn under the chosen products within its window. When such a loan turns bad, its bank files a claim: the unpaid principal times the coverage, at most the cap per loan, paid from the pool once the park office approves. Leverage is the enrolled principal outstanding per yuan in the pool.",
        )}
      </p>
      <Paged
        deps={[park, changed]}
        caption={t("资金池", "Pools")}
        load={(cursor) =>
          unwrap(
            api.GET("/api/v1/parks/{id}/risk-pools", { params: { path: { id: park }, query: { limit: 50, ...(cursor ? { cursor } : {}) } } }),
          )
        }
        columns={poolColumns(true)}
      />
      <h2>{t("设立资金池", "Open a pool")}</h2>
      <Show loaded={products}>
        {(list) => (
          <Form
            submit={t("设立", "Open the pool")}
            done={t("已设立资金池。", "The pool is open.")}
            action={async (form, key) => {
              const body = poolFrom(form);
              const pool = await unwrap(
                api.POST("/api/v1/parks/{id}/risk-pools", { params: { path: { id: park }, header: { "Idempotency-Key": key } }, body }),
              );
              setChanged((n) => n + 1);
              location.hash = `#/pools/${pool.id}`;
            }}
          >
            <Field label={t("名称", "Name")}>
              <input name="name" required maxLength={200} placeholder={t("如 2026 年度科技型企业风险补偿资金池", "such as the 2026 pool")} />
            </Field>
            <fieldset class="choices">
              <legend>{t("覆盖的产品", "Products covered")}</legend>
              {list.length === 0 && <p class="muted">{t("园区尚无可选的产品。", "The park has no products to choose.")}</p>}
              {list.map((p) => (
                <label class="check">
                  <input type="checkbox" name="product_ids" value={p.id} /> {p.name}{" "}
                  <small class="muted">
                    <BankName id={p.bank_id} names={banks} /> · {word(p.status)}
                  </small>
                </label>
              ))}
            </fieldset>
            <Field label={t("补偿比例（%）", "Coverage (%)")} hint={t("未还本金中由资金池补偿的比例，如 50", "the share of unpaid principal the pool repays, such as 50")}>
              <input name="coverage" inputMode="decimal" required placeholder="50" />
            </Field>
            <Field label={t("单笔上限（元）", "Cap per loan (yuan)")}>
              <input name="per_loan_cap" inputMode="decimal" required placeholder="2000000" />
            </Field>
            <Field label={t("入池放款起始日", "Enrol loans drawn from")}>
              <input name="enrol_from" type="date" required />
            </Field>
            <Field label={t("入池放款截止日", "Enrol loans drawn until")}>
              <input name="enrol_to" type="date" required />
            </Field>
          </Form>
        )}
      </Show>
    </section>
  );
}

/** The pool form's fields, checked: every bad field named at once. */
function poolFrom(form: FormData): Schemas["NewRiskPool"] {
  const details: Schemas["ErrorDetail"][] = [];
  const name = text(form, "name");
  const product_ids = form.getAll("product_ids").map(String);
  const coverage = text(form, "coverage").replace(/%$/, "");
  const cap = toFen(text(form, "per_loan_cap"));
  const enrol_from = text(form, "enrol_from");
  const enrol_to = text(form, "enrol_to");
  if (!name) details.push({ field: "name", message: t("请填写名称", "give it a name") });
  if (product_ids.length === 0) details.push({ field: "product_ids", message: t("请至少选择一个产品", "choose at least one product") });
  const percent = Number(coverage);
  if (!/^\d+(\.\d{1,2})?$/.test(coverage) || percent <= 0 || percent > 100)
    details.push({ field: "coverage_bps", message: t("补偿比例应为 0–100 之间的百分数，最多两位小数", "a percentage above 0 and at most 100, at most two decimals") });
  if (cap === null || cap < 1) details.push({ field: "per_loan_cap", message: t("单笔上限应为元，最多两位小数", "an amount in yuan, at most two decimals") });
  if (enrol_from && enrol_to && enrol_to < enrol_from)
    details.push({ field: "enrol_to", message: t("截止日不能早于起始日", "the last day may not be before the first") });
  if (details.length > 0) {
    throw new ApiFailure(422, {
      code: "validation_failed",
      message: t("资金池的设置有误，请改正后再提交。", "Some of the pool's fields are not valid; correct them and submit again."),
      details,
    });
  }
  return { name, product_ids, coverage_bps: Math.round(percent * 100), per_loan_cap: cap!, enrol_from, enrol_to };
}

function entryKind(kind: Schemas["EntryKind"]): string {
  switch (kind) {
    case "top_up":
      return t("注资", "top-up");
    case "claim_paid":
      return t("代偿支付", "claim paid");
    case "recovery_returned":
      return t("追偿返还", "recovery returned");
  }
}

/** One pool: its figures, the top-up form, its ledger, and its claims to decide. */
function PoolDetail({ id }: { id: string }) {
  const pool = useLoad(() => unwrap(api.GET("/api/v1/risk-pools/{id}", { params: { path: { id } } })), [id]);
  const [changed, setChanged] = useState(0);
  const refresh = () => {
    pool.reload();
    setChanged((n) => n + 1);
  };
  return (
    <section>
      <p>
        <a href="#/pools">{t("← 全部资金池", "← All pools")}</a>
      </p>
      <Show loaded={pool}>
        {(p) => (
          <>
            <h1>{p.name}</h1>
            <div class="cards">
              <div class="card" data-figure="balance">
                <div class="card-label">{t("余额", "Balance")}</div>
                <div class="card-value">
                  <Money fen={p.balance} />
                </div>
              </div>
              <div class="card" data-figure="enrolled_outstanding">
                <div class="card-label">{t("在保贷款余额", "Enrolled outstanding")}</div>
                <div class="card-value">
                  <Money fen={p.enrolled_outstanding} />
                </div>
              </div>
              <div class="card" data-figure="leverage">
                <div class="card-label">{t("放大倍数", "Leverage")}</div>
                <div class="card-value">{leverage(p)}</div>
              </div>
              <div class="card" data-figure="paid">
                <div class="card-label">{t(`已代偿（${p.claims_paid} 笔）`, `Paid (${p.claims_paid} claims)`)}</div>
                <div class="card-value">
                  <Money fen={p.paid} />
                </div>
              </div>
            </div>
            <dl class="facts">
              <dt>{t("补偿比例", "Coverage")}</dt>
              <dd>{bps(p.coverage_bps)}</dd>
              <dt>{t("单笔上限", "Cap per loan")}</dt>
              <dd>
                <Money fen={p.per_loan_cap} />
              </dd>
              <dt>{t("入池放款期间", "Enrolment window")}</dt>
              <dd>
                {p.enrol_from} – {p.enrol_to}
              </dd>
              <dt>{t("覆盖的产品", "Products covered")}</dt>
              <dd>
                <PoolProducts park={p.park_id} ids={p.product_ids} />
              </dd>
              <dt>{t("设立日期", "Opened")}</dt>
              <dd>{day(p.created_at)}</dd>
            </dl>
          </>
        )}
      </Show>
      <h2>{t("注资", "Top up")}</h2>
      <Form
        submit={t("注资", "Top up")}
        done={t("已注资。", "Topped up.")}
        action={async (form, key) => {
          const amount = toFen(text(form, "amount"));
          const details: Schemas["ErrorDetail"][] = [];
          if (amount === null || amount < 1) details.push({ field: "amount", message: t("金额应为元，最多两位小数", "an amount in yuan, at most two decimals") });
          if (!text(form, "reference")) details.push({ field: "reference", message: t("请填写转账凭证号", "give the transfer's reference") });
          if (details.length > 0) {
            throw new ApiFailure(422, { code: "validation_failed", message: t("注资信息有误。", "The top-up is not valid."), details });
          }
          await unwrap(
            api.POST("/api/v1/risk-pools/{id}/top-ups", {
              params: { path: { id }, header: { "Idempotency-Key": key } },
              body: { amount: amount!, reference: text(form, "reference") },
            }),
          );
          refresh();
        }}
      >
        <Field label={t("金额（元）", "Amount (yuan)")}>
          <input name="amount" inputMode="decimal" required />
        </Field>
        <Field label={t("转账凭证号", "Transfer reference")} hint={t("同一资金池内不可重复", "unique within the pool")}>
          <input name="reference" required maxLength={64} />
        </Field>
      </Form>
      <h2>{t("代偿申请", "Claims")}</h2>
      <Claims pool={id} deps={[changed]} decide onDecided={refresh} />
      <h2>{t("资金流水", "Ledger")}</h2>
      <Paged
        deps={[id, changed]}
        caption={t("资金流水明细", "Ledger entries")}
        load={(cursor) =>
          unwrap(api.GET("/api/v1/risk-pools/{id}/entries", { params: { path: { id }, query: { limit: 50, ...(cursor ? { cursor } : {}) } } }))
        }
        columns={[
          { label: t("日期", "Date"), cell: (e: Schemas["LedgerEntryView"]) => day(e.created_at) },
          { label: t("类型", "Kind"), cell: (e) => <span data-kind={e.kind}>{entryKind(e.kind)}</span> },
          { label: t("金额", "Amount"), cell: (e) => <Money fen={e.amount} />, numeric: true },
          { label: t("凭证号", "Reference"), cell: (e) => e.reference ?? "—" },
          { label: t("代偿申请", "Claim"), cell: (e) => (e.claim_id ? `#${e.claim_id}` : "—") },
        ]}
      />
    </section>
  );
}

function PoolProducts({ park, ids }: { park: string; ids: string[] }) {
  const products = useProducts(park);
  const names = new Map((products.data ?? []).map((p) => [p.id, p.name]));
  return <>{ids.map((id) => names.get(id) ?? t(`产品 #${id}`, `product #${id}`)).join(t("、", ", "))}</>;
}

/** Claims, of a pool or all the key may see; with approve and reject for the park office. */
function Claims({
  pool,
  deps = [],
  decide,
  onDecided,
}: {
  pool?: string;
  deps?: unknown[];
  decide?: boolean;
  onDecided?: () => void;
}) {
  const [status, setStatus] = useState("");
  const [deciding, setDeciding] = useState(0);
  const banks = useBankNames();
  return (
    <>
      <ClaimStatusFilter name="claim_status" value={status} onChange={setStatus} />
      <Paged
        deps={[pool, status, deciding, ...deps]}
        caption={t("代偿申请明细", "Claims, one by one")}
        load={(cursor) =>
          unwrap(
            api.GET("/api/v1/risk-claims", {
              params: {
                query: {
                  limit: 50,
                  ...(pool ? { pool_id: pool } : {}),
                  ...(status ? { status: status as Schemas["ClaimStatus"] } : {}),
                  ...(cursor ? { cursor } : {}),
                },
              },
            }),
          )
        }
        columns={[
          { label: t("申请", "Claim"), cell: (c: Claim) => `#${c.id}` },
          { label: t("申请日期", "Filed"), cell: (c) => day(c.filed_at) },
          ...(decide
            ? [
                { label: t("银行", "Bank"), cell: (c: Claim) => <BankName id={c.bank_id} names={banks} /> },
                { label: t("企业", "Enterprise"), cell: (c: Claim) => <EnterpriseName id={c.enterprise_id} /> },
              ]
            : [{ label: t("资金池", "Pool"), cell: (c: Claim) => `#${c.pool_id}` }]),
          { label: t("借据", "Loan"), cell: (c) => `#${c.loan_id}` },
          { label: t("未还本金", "Unpaid principal"), cell: (c) => <Money fen={c.unpaid_principal} />, numeric: true },
          { label: t("代偿金额", "Claim amount"), cell: (c) => <Money fen={c.amount} />, numeric: true },
          { label: t("追偿返还", "Returned"), cell: (c) => <Money fen={c.returned} />, numeric: true },
          { label: t("状态", "Status"), cell: (c) => <ClaimState claim={c} /> },
          { label: t("审核日期", "Decided"), cell: (c) => day(c.decided_at) },
          { label: t("原因", "Reason"), cell: (c) => c.reason ?? "" },
          ...(decide
            ? [
                {
                  label: t("审核", "Decide"),
                  cell: (c: Claim) =>
                    c.status === "filed" ? (
                      <Decision
                        approve={() => api.POST("/api/v1/risk-claims/{id}/approve", { params: { path: { id: c.id } }, body: {} })}
                        reject={(reason) => api.POST("/api/v1/risk-claims/{id}/reject", { params: { path: { id: c.id } }, body: { reason } })}
                        onDecided={() => {
                          setDeciding((n) => n + 1);
                          onDecided?.();
                        }}
                      />
                    ) : (
                      "—"
                    ),
                },
              ]
            : []),
        ]}
      />
    </>
  );
}

/** A call deciding one claim, as openapi-fetch gives it. */
type Decide = Promise<{ data?: unknown; error?: unknown; response: Response }>;

/** Approve, or reject with a reason, one filed claim: a risk claim or a subsidy claim. */
export function Decision({
  approve,
  reject,
  onDecided,
}: {
  approve: () => Decide;
  reject: (reason: string) => Decide;
  onDecided: () => void;
}) {
  const [rejecting, setRejecting] = useState(false);
  const [error, setError] = useState<unknown>();
  if (rejecting) {
    return (
      <form
        class="decision"
        onSubmit={async (event) => {
          event.preventDefault();
          const reason = text(new FormData(event.currentTarget), "reason");
          setError(undefined);
          try {
            await unwrap(reject(reason));
            onDecided();
          } catch (e) {
            setError(e);
          }
        }}
      >
        <label class="field">
          <span>{t("拒绝原因", "Why")}</span>
          <input name="reason" required maxLength={500} />
        </label>
        <button type="submit" class="danger">
          {t("确认拒绝", "Reject")}
        </button>
        <button type="button" class="plain" onClick={() => setRejecting(false)}>
          {t("取消", "Cancel")}
        </button>
        <ErrorBox error={error} />
      </form>
    );
  }
  return (
    <span class="decision">
      <Action
        label={t("批准并支付", "Approve and pay")}
        run={async () => {
          await unwrap(approve());
          onDecided();
        }}
      />
      <button type="button" class="plain" onClick={() => setRejecting(true)}>
        {t("拒绝", "Reject")}
      </button>
    </span>
  );
}

/** A bank's claims, and the form to file one on a pool for its loan. */
export function BankClaims() {
  const [changed, setChanged] = useState(0);
  const [filed, setFiled] = useState<Claim>();
  return (
    <section>
      <h1>{t("风险补偿申请", "Risk claims")}</h1>
      <p>
        {t(
          "本行在园区风险补偿资金池覆盖期间发放的贷款成为不良（次级、可疑、损失）或核销后，可向资金池申请代偿：金额按未还本金乘以补偿比例计算，不超过单笔上限，由园区审核。",
          "When a loan this bank made under a pool's product and window turns non-performing (substandard, doubtful, loss) or is written off, file a claim on the pool: the unpaid principal times the coverage, at most the cap per loan, decided by the park office.",
        )}
      </p>
      <h2>{t("申请代偿", "File a claim")}</h2>
      <Form
        submit={t("提交申请", "File the claim")}
        action={async (form, key) => {
          const pool = text(form, "pool_id");
          const loan = text(form, "loan_id");
          const details: Schemas["ErrorDetail"][] = [];
          if (!/^\d+$/.test(pool)) details.push({ field: "pool_id", message: t("资金池编号应为数字", "a pool id is a number") });
          if (!/^\d+$/.test(loan)) details.push({ field: "loan_id", message: t("借据编号应为数字", "a loan id is a number") });
          if (details.length > 0) {
            throw new ApiFailure(422, { code: "validation_failed", message: t("申请信息有误。", "The claim is not valid."), details });
          }
          setFiled(undefined);
          const claim = await unwrap(
            api.POST("/api/v1/risk-pools/{id}/claims", {
              params: { path: { id: pool }, header: { "Idempotency-Key": key } },
              body: { loan_id: loan },
            }),
          );
          setFiled(claim);
          setChanged((n) => n + 1);
        }}
      >
        <Field label={t("资金池编号", "Pool id")}>
          <input name="pool_id" inputMode="numeric" required maxLength={20} />
        </Field>
        <Field label={t("借据编号", "Loan id")}>
          <input name="loan_id" inputMode="numeric" required maxLength={20} />
        </Field>
      </Form>
      {filed && (
        <p class="ok" role="status">
          {t(`已提交代偿申请 #${filed.id}：`, `Claim #${filed.id} filed: `)}
          <Money fen={filed.amount} />
        </p>
      )}
      <h2>{t("本行的代偿申请", "This bank's claims")}</h2>
      <Claims deps={[changed]} />
    </section>
  );
}
