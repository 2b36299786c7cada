// A bank's pages: the application queue and its decisions, the enterprises parks recommended to it,
// credit lines with disbursements and repayments, and products with their rules, lifecycle and
// prospects.
import { useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../api/client";
import { bps, day, toFen } from "../format";
import { t, word } from "../i18n";
import type { Me } from "../main";
import { Action, Field, Form, Money, Paged, Show, Table, text, useLoad } from "../ui";
import { LinesOf } from "./park";
import { BankTasks } from "./recommendations";
import { BankClaims } from "./risk";

export function BankPages({ me, route }: { me: Me; route: string[] }) {
  switch (route[0]) {
    case "lines":
      return route[1] ? <LineDetail id={route[1]} /> : <Lines />;
    case "products":
      if (route[1] === "new") return <ProductForm bank={me.bank_id ?? ""} />;
      return route[1] ? <ProductDetail id={route[1]} /> : <Products bank={me.bank_id ?? ""} />;
    case "applications":
      return route[1] ? <ApplicationDetail id={route[1]} /> : <Queue />;
    case "tasks":
      return <BankTasks />;
    case "claims":
      return <BankClaims />;
    default:
      return <Queue />;
  }
}

function fen(form: FormData, name: string): number {
  const value = toFen(text(form, name));
  if (value === null) throw new Error(t(`${name}：请输入金额（元，最多两位小数）`, `${name}: enter an amount in yuan, at most two decimals`));
  return value;
}

function whole(form: FormData, name: string): number {
  const value = Number(text(form, name));
  if (!Number.isInteger(value)) throw new Error(t(`${name}：请输入整数`, `${name}: enter a whole number`));
  return value;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Open applications, oldest first, with the working days left on each one's SLA. */
function Queue() {
  const [status, setStatus] = useState<Schemas["ApplicationStatus"]>("submitted");
  return (
    <section>
      <h1>{t("申请队列", "Application queue")}</h1>
      <div class="filters">
        <Field label={t("状态", "Status")}>
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as Schemas["ApplicationStatus"])}>
            {(["submitted", "under_review", "approved", "rejected", "withdrawn"] as const).map((s) => (
              <option value={s}>{word(s)}</option>
            ))}
          </select>
        </Field>
      </div>
      <Paged
        deps={[status]}
        load={(cursor) => unwrap(api.GET("/api/v1/applications", { params: { query: { status, limit: 50, ...(cursor ? { cursor } : {}) } } }))}
        columns={[
          { label: t("申请", "Application"), cell: (a: Schemas["ApplicationView"]) => <a href={`#/applications/${a.id}`}>#{a.id}</a> },
          { label: t("提交日期", "Submitted"), cell: (a) => day(a.submitted_at) },
          { label: t("金额", "Amount"), cell: (a) => <Money fen={a.amount} />, numeric: true },
          { label: t("积分", "Score"), cell: (a) => a.score?.toFixed(2) ?? "—", numeric: true },
          { label: t("状态", "Status"), cell: (a) => word(a.status) },
          { label: t("时限", "SLA"), cell: (a) => <SlaLeft application={a} /> },
        ]}
      />
    </section>
  );
}

function SlaLeft({ application }: { application: Schemas["ApplicationView"] }) {
  const left = application.sla_working_days_left;
  if (left === undefined) return <span>—</span>;
  // The service counts Chinese working days; a year whose calendar is not published yet is
  // counted Monday to Friday, and said so.
  const note = application.sla_calendar_published
    ? ""
    : t("（该年节假日安排尚未公布，按周一至周五计）", " (that year's holiday calendar is not out yet: Monday to Friday)");
  if (left < 0) return <span class="bad">{t(`已超时 ${-left} 个工作日`, `${-left} working days late`)}{note}</span>;
  return (
    <span class={left <= 1 ? "warn" : undefined}>
      {t(`剩余 ${left} 个工作日（${application.sla_due_on}）`, `${left} working days left (${application.sla_due_on})`)}
      {note}
    </span>
  );
}

function ApplicationDetail({ id }: { id: string }) {
  const application = useLoad(() => unwrap(api.GET("/api/v1/applications/{id}", { params: { path: { id } } })), [id]);
  const [granted, setGranted] = useState<Schemas["CreditLineView"]>();
  return (
    <section>
      <Show loaded={application}>
        {(a) => (
          <>
            <h1>{t(`申请 #${a.id}`, `Application #${a.id}`)}</h1>
            <dl class="facts">
              <dt>{t("企业", "Enterprise")}</dt>
              <dd>#{a.enterprise_id}</dd>
              <dt>{t("金额", "Amount")}</dt>
              <dd>
                <Money fen={a.amount} />
              </dd>
              <dt>{t("可贷上限", "Offer at most")}</dt>
              <dd>
                <Money fen={a.offer_max_amount} />
              </dd>
              <dt>{t("期限", "Term")}</dt>
              <dd>{t(`${a.term_months} 个月`, `${a.term_months} months`)}</dd>
              <dt>{t("用途", "Purpose")}</dt>
              <dd>{a.purpose}</dd>
              <dt>{t("积分", "Score")}</dt>
              <dd>{a.score !== undefined ? `${a.score.toFixed(2)} (${a.score_period})` : "—"}</dd>
              <dt>{t("状态", "Status")}</dt>
              <dd data-status={a.status}>{word(a.status)}</dd>
              <dt>{t("时限", "SLA")}</dt>
              <dd>
                <SlaLeft application={a} />
              </dd>
            </dl>
            {(a.status === "submitted" || a.status === "under_review") && (
              <>
                {a.status === "submitted" && (
                  <Action
                    label={t("开始审核", "Start review")}
                    run={async () => {
                      await unwrap(api.POST("/api/v1/applications/{id}/review", { params: { path: { id } } }));
                      application.reload();
                    }}
                  />
                )}
                <h2>{t("批准并授信", "Approve and grant")}</h2>
                <Form
                  submit={t("批准", "Approve")}
                  action={async (form, key) => {
                    const result = await unwrap(
                      api.POST("/api/v1/applications/{id}/approve", {
                        params: { path: { id }, header: { "Idempotency-Key": key } },
                        body: {
                          amount: fen(form, "amount"),
                          rate_bps: Math.round(Number(text(form, "rate")) * 100),
                          term_months: whole(form, "term_months"),
                          expires_on: text(form, "expires_on"),
                        },
                      }),
                    );
                    setGranted(result.credit_line);
                    application.reload();
                  }}
                >
                  <Field label={t("授信金额（元）", "Amount (yuan)")}>
                    <input name="amount" inputMode="decimal" required defaultValue={String(a.amount / 100)} />
                  </Field>
                  <Field label={t("年利率（%）", "Rate (% a year)")} hint={`${bps(a.terms.rate_bps_min)} – ${bps(a.terms.rate_bps_max)}`}>
                    <input name="rate" inputMode="decimal" required defaultValue={(a.terms.rate_bps_max / 100).toFixed(2)} />
                  </Field>
                  <Field label={t("期限（月）", "Term (months)")}>
                    <input name="term_months" inputMode="numeric" required defaultValue={String(a.term_months)} />
                  </Field>
                  <Field label={t("额度到期日", "Line expires on")}>
                    <input name="expires_on" type="date" required defaultValue={`${new Date().getUTCFullYear() + 1}-12-31`} />
                  </Field>
                </Form>
                <h2>{t("拒绝", "Reject")}</h2>
                <Form
                  submit={t("拒绝", "Reject")}
                  action={async (form) => {
                    await unwrap(
                      api.POST("/api/v1/applications/{id}/reject", {
                        params: { path: { id } },
                        body: { reason: text(form, "reason") },
                      }),
                    );
                    application.reload();
                  }}
                >
                  <Field label={t("原因（企业可见）", "Reason (the enterprise sees it)")}>
                    <textarea name="reason" required rows={2} />
                  </Field>
                </Form>
              </>
            )}
          </>
        )}
      </Show>
      {granted && (
        <p class="ok" role="status">
          {t("已授信：", "Granted: ")}
          <a href={`#/lines/${granted.id}`}>{t(`授信 #${granted.id}`, `credit line #${granted.id}`)}</a>
        </p>
      )}
    </section>
  );
}

function Lines() {
  return (
    <section>
      <h1>{t("授信与放款", "Credit lines")}</h1>
      <LinesOf link />
    </section>
  );
}

/** A line: its figures, a disbursement form, and its loans, each with a repayment form. */
function LineDetail({ id }: { id: string }) {
  const line = useLoad(() => unwrap(api.GET("/api/v1/credit-lines/{id}", { params: { path: { id } } })), [id]);
  const [version, setVersion] = useState(0);
  return (
    <section>
      <Show loaded={line}>
        {(l) => (
          <>
            <h1>{t(`授信 #${l.id}`, `Credit line #${l.id}`)}</h1>
            <dl class="facts">
              <dt>{t("企业", "Enterprise")}</dt>
              <dd>#{l.enterprise_id}</dd>
              <dt>{t("额度", "Amount")}</dt>
              <dd>
                <Money fen={l.amount} />
              </dd>
              <dt>{t("已放款", "Drawn")}</dt>
              <dd>
                <Money fen={l.disbursed_total} />
              </dd>
              <dt>{t("可用", "Available")}</dt>
              <dd data-figure="available">
                <Money fen={l.available} />
              </dd>
              <dt>{t("利率", "Rate")}</dt>
              <dd>{bps(l.rate_bps)}</dd>
              <dt>{t("循环", "Revolving")}</dt>
              <dd>{l.revolving ? t("是", "yes") : t("否", "no")}</dd>
              <dt>{t("状态", "Status")}</dt>
              <dd>
                {word(l.status)} · {t("到期", "expires")} {l.expires_on}
              </dd>
            </dl>
            {l.status === "active" && (
              <>
                <h2>{t("放款", "Record a disbursement")}</h2>
                <Form
                  submit={t("放款", "Disburse")}
                  done={t("已放款。", "Disbursed.")}
                  action={async (form, key) => {
                    const method = text(form, "method") as Schemas["RepaymentMethod"];
                    const maturity = text(form, "maturity_date");
                    await unwrap(
                      api.POST("/api/v1/credit-lines/{id}/disbursements", {
                        params: { path: { id }, header: { "Idempotency-Key": key } },
                        body: {
                          amount: fen(form, "amount"),
                          reference: text(form, "reference"),
                          disbursed_on: text(form, "disbursed_on"),
                          repayment_method: method,
                          ...(maturity ? { maturity_date: maturity } : {}),
                        },
                      }),
                    );
                    line.reload();
                    setVersion((v) => v + 1);
                  }}
                >
                  <Field label={t("金额（元）", "Amount (yuan)")}>
                    <input name="amount" inputMode="decimal" required />
                  </Field>
                  <Field label={t("银行流水号", "Bank reference")}>
                    <input name="reference" required maxLength={64} />
                  </Field>
                  <Field label={t("放款日期", "Disbursed on")}>
                    <input name="disbursed_on" type="date" required defaultValue={today()} />
                  </Field>
                  <Field label={t("还款方式", "Repayment method")}>
                    <select name="method">
                      {(["bullet", "monthly_interest", "equal_installment", "equal_principal"] as const).map((m) => (
                        <option value={m}>{word(m)}</option>
                      ))}
                    </select>
                  </Field>
                  <Field label={t("到期日（可选）", "Maturity (optional)")} hint={t("默认为授信期限", "the line's term by default")}>
                    <input name="maturity_date" type="date" />
                  </Field>
                </Form>
              </>
            )}
          </>
        )}
      </Show>
      <h2>{t("借据", "Loans")}</h2>
      <LoansOf line={id} version={version} repayable onRepaid={line.reload} />
    </section>
  );
}

/** Loans of a line, or the caller's; with a repayment form on each for the bank. */
export function LoansOf({
  line,
  version = 0,
  repayable,
  onRepaid,
}: {
  line?: string;
  version?: number;
  repayable?: boolean;
  onRepaid?: () => void;
}) {
  const [open, setOpen] = useState<string>();
  const [changed, setChanged] = useState(0);
  return (
    <>
      <Paged
        deps={[line, version, changed]}
        load={(cursor) =>
          line
            ? unwrap(api.GET("/api/v1/credit-lines/{id}/loans", { params: { path: { id: line }, query: { limit: 20, ...(cursor ? { cursor } : {}) } } }))
            : unwrap(api.GET("/api/v1/loans", { params: { query: { limit: 20, ...(cursor ? { cursor } : {}) } } }))
        }
        columns={[
          { label: t("借据", "Loan"), cell: (l: Schemas["LoanView"]) => `#${l.id}` },
          { label: t("放款日", "Disbursed"), cell: (l) => l.disbursed_on },
          { label: t("到期日", "Matures"), cell: (l) => l.maturity_date },
          { label: t("还款方式", "Method"), cell: (l) => word(l.repayment_method) },
          { label: t("金额", "Amount"), cell: (l) => <Money fen={l.amount} />, numeric: true },
          { label: t("本金余额", "Outstanding"), cell: (l) => <Money fen={l.principal_outstanding} />, numeric: true },
          { label: t("逾期天数", "Days past due"), cell: (l) => l.days_past_due, numeric: true },
          { label: t("五级分类", "Classification"), cell: (l) => word(l.classification) },
          ...(repayable
            ? [
                {
                  label: t("还款", "Repay"),
                  cell: (l: Schemas["LoanView"]) =>
                    l.principal_outstanding > 0 ? (
                      <button type="button" class="plain" onClick={() => setOpen(open === l.id ? undefined : l.id)}>
                        {t("登记还款", "Record a repayment")}
                      </button>
                    ) : (
                      t("已结清", "settled")
                    ),
                },
              ]
            : []),
        ]}
      />
      {open && (
        <div class="panel" key={open}>
          <h3>{t(`借据 #${open} 还款`, `Repayment of loan #${open}`)}</h3>
          <p class="muted">
            {t(
              "依次冲抵：逾期利息、逾期本金、当期利息、当期本金；多还部分提前还本，缩短期限。",
              "Allocated to overdue interest, overdue principal, current interest, then current principal; more prepays principal and shortens the term.",
            )}
          </p>
          <Form
            submit={t("登记", "Record")}
            done={t("已登记还款。", "Repayment recorded.")}
            action={async (form, key) => {
              await unwrap(
                api.POST("/api/v1/loans/{id}/repayments", {
                  params: { path: { id: open }, header: { "Idempotency-Key": key } },
                  body: { amount: fen(form, "amount"), paid_on: text(form, "paid_on"), reference: text(form, "reference") },
                }),
              );
              setChanged((n) => n + 1);
              onRepaid?.();
            }}
          >
            <Field label={t("金额（元）", "Amount (yuan)")}>
              <input name="amount" inputMode="decimal" required />
            </Field>
            <Field label={t("还款日期", "Paid on")}>
              <input name="paid_on" type="date" required defaultValue={today()} />
            </Field>
            <Field label={t("银行流水号", "Bank reference")}>
              <input name="reference" required maxLength={64} />
            </Field>
          </Form>
        </div>
      )}
    </>
  );
}

function Products({ bank }: { bank: string }) {
  return (
    <section>
      <h1>{t("产品", "Products")}</h1>
      <p>
        <a class="button" href="#/products/new">
          {t("新建产品", "New product")}
        </a>
      </p>
      <Paged
        deps={[bank]}
        load={(cursor) => unwrap(api.GET("/api/v1/products", { params: { query: { bank_id: bank, limit: 50, ...(cursor ? { cursor } : {}) } } }))}
        columns={[
          { label: t("产品", "Product"), cell: (p: Schemas["ProductView"]) => <a href={`#/products/${p.id}`}>{p.name}</a> },
          { label: t("代码", "Code"), cell: (p) => <code>{p.code}</code> },
          { label: t("状态", "Status"), cell: (p) => word(p.status) },
          { label: t("利率", "Rates"), cell: (p) => `${bps(p.rate_bps_min)} – ${bps(p.rate_bps_max)}` },
          { label: t("已授信", "Granted"), cell: (p) => <Money fen={p.granted_total} />, numeric: true },
          { label: t("剩余额度", "Quota left"), cell: (p) => <Money fen={p.remaining_quota} />, numeric: true },
        ]}
      />
    </section>
  );
}

type ProductInput = Schemas["NewProduct"];

function productFrom(form: FormData, bank: string): ProductInput {
  const minScore = text(form, "min_score");
  const parks = text(form, "park_ids");
  const stages = (["startup", "growth", "mature"] as const).filter((s) => form.get(`stage_${s}`) === "on");
  const minStagePercentile = text(form, "min_stage_percentile");
  return {
    code: text(form, "code"),
    name: text(form, "name"),
    description: text(form, "description"),
    credit_type: text(form, "credit_type") as Schemas["CreditType"],
    min_amount: fen(form, "min_amount"),
    max_amount: fen(form, "max_amount"),
    rate_bps_min: Math.round(Number(text(form, "rate_min")) * 100),
    rate_bps_max: Math.round(Number(text(form, "rate_max")) * 100),
    term_months_min: whole(form, "term_months_min"),
    term_months_max: whole(form, "term_months_max"),
    approval_sla_days: whole(form, "approval_sla_days"),
    total_quota: fen(form, "total_quota"),
    revolving: form.get("revolving") === "on",
    eligibility: {
      ...(minScore ? { min_score: Number(minScore) } : {}),
      ...(parks ? { park_ids: parks.split(/[,，\s]+/).filter(Boolean) } : {}),
      ...(stages.length > 0 ? { stages } : {}),
      ...(minStagePercentile ? { min_stage_percentile: Number(minStagePercentile) } : {}),
    },
    amount_tiers: [],
    bank_id: bank,
  };
}

function ProductFields({ product }: { product?: Schemas["ProductView"] }) {
  const yuan = (fen?: number) => (fen === undefined ? "" : String(fen / 100));
  return (
    <div class="grid">
      <Field label={t("代码", "Code")}>
        <input name="code" required defaultValue={product?.code} pattern="[A-Za-z0-9][A-Za-z0-9_-]*" />
      </Field>
      <Field label={t("名称", "Name")}>
        <input name="name" required defaultValue={product?.name} />
      </Field>
      <Field label={t("说明", "Description")}>
        <input name="description" defaultValue={product?.description} />
      </Field>
      <Field label={t("担保方式", "Credit type")}>
        {/* `selected`, not `defaultValue`, which a <select> does not have outside React. */}
        <select name="credit_type">
          {(["pure_credit", "guaranteed", "ip_pledge"] as const).map((c) => (
            <option value={c} selected={c === (product?.credit_type ?? "pure_credit")}>
              {word(c)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("最低金额（元）", "Smallest loan (yuan)")}>
        <input name="min_amount" inputMode="decimal" required defaultValue={yuan(product?.min_amount)} />
      </Field>
      <Field label={t("最高金额（元）", "Largest loan (yuan)")}>
        <input name="max_amount" inputMode="decimal" required defaultValue={yuan(product?.max_amount)} />
      </Field>
      <Field label={t("最低年利率（%）", "Lowest rate (%)")}>
        <input name="rate_min" inputMode="decimal" required defaultValue={product ? String(product.rate_bps_min / 100) : ""} />
      </Field>
      <Field label={t("最高年利率（%）", "Highest rate (%)")}>
        <input name="rate_max" inputMode="decimal" required defaultValue={product ? String(product.rate_bps_max / 100) : ""} />
      </Field>
      <Field label={t("最短期限（月）", "Shortest term (months)")}>
        <input name="term_months_min" inputMode="numeric" required defaultValue={String(product?.term_months_min ?? 6)} />
      </Field>
      <Field label={t("最长期限（月）", "Longest term (months)")}>
        <input name="term_months_max" inputMode="numeric" required defaultValue={String(product?.term_months_max ?? 36)} />
      </Field>
      <Field label={t("审批时限（工作日）", "Approval SLA (working days)")}>
        <input name="approval_sla_days" inputMode="numeric" required defaultValue={String(product?.approval_sla_days ?? 5)} />
      </Field>
      <Field label={t("总额度（元）", "Total quota (yuan)")}>
        <input name="total_quota" inputMode="decimal" required defaultValue={yuan(product?.total_quota)} />
      </Field>
      <Field label={t("最低积分", "Minimum score")}>
        <input name="min_score" inputMode="decimal" defaultValue={product?.eligibility.min_score?.toString() ?? ""} />
      </Field>
      <Field label={t("限定园区（编号，逗号分隔）", "Parks (ids, comma-separated)")}>
        <input name="park_ids" defaultValue={product?.eligibility.park_ids?.join(",") ?? ""} />
      </Field>
      <Field label={t("同阶段最低百分位", "Minimum percentile in its stage")}>
        <input name="min_stage_percentile" inputMode="decimal" defaultValue={product?.eligibility.min_stage_percentile?.toString() ?? ""} />
      </Field>
      <fieldset class="check">
        <legend>{t("限定阶段（不选为全部）", "Stages (none for all)")}</legend>
        {(["startup", "growth", "mature"] as const).map((s) => (
          <label>
            <input name={`stage_${s}`} type="checkbox" defaultChecked={product?.eligibility.stages?.includes(s)} /> {word(s)}
          </label>
        ))}
      </fieldset>
      <label class="check">
        <input name="revolving" type="checkbox" defaultChecked={product?.revolving} /> {t("循环授信", "Revolving lines")}
      </label>
    </div>
  );
}

function ProductForm({ bank }: { bank: string }) {
  return (
    <section>
      <h1>{t("新建产品", "New product")}</h1>
      <Form
        submit={t("保存为草稿", "Save as draft")}
        action={async (form, key) => {
          const created = await unwrap(
            api.POST("/api/v1/products", { params: { header: { "Idempotency-Key": key } }, body: productFrom(form, bank) }),
          );
          location.hash = `#/products/${created.id}`;
        }}
      >
        <ProductFields />
      </Form>
    </section>
  );
}

function ProductDetail({ id }: { id: string }) {
  const product = useLoad(() => unwrap(api.GET("/api/v1/products/{id}", { params: { path: { id } } })), [id]);
  const lifecycle = (to: "publish" | "suspend" | "retire") => async () => {
    const path = `/api/v1/products/{id}/${to}` as "/api/v1/products/{id}/publish";
    await unwrap(api.POST(path, { params: { path: { id } } }));
    product.reload();
  };
  return (
    <section>
      <Show loaded={product}>
        {(p) => (
          <>
            <h1>
              {p.name} <span class="tag">{word(p.status)}</span>
            </h1>
            <div class="actions">
              {p.status === "draft" && <Action label={t("上架", "Publish")} run={lifecycle("publish")} />}
              {p.status === "published" && <Action label={t("暂停", "Suspend")} run={lifecycle("suspend")} />}
              {p.status === "suspended" && <Action label={t("恢复上架", "Publish again")} run={lifecycle("publish")} />}
              {(p.status === "published" || p.status === "suspended") && (
                <Action danger label={t("下架", "Retire")} run={lifecycle("retire")} />
              )}
            </div>
            {p.status === "draft" ? (
              <>
                <h2>{t("编辑规则", "Edit the rules")}</h2>
                <Form
                  submit={t("保存", "Save")}
                  done={t("已保存。", "Saved.")}
                  action={async (form) => {
                    const { bank_id: _bank, ...patch } = productFrom(form, p.bank_id);
                    await unwrap(api.PATCH("/api/v1/products/{id}", { params: { path: { id } }, body: patch }));
                    product.reload();
                  }}
                >
                  <ProductFields product={p} />
                </Form>
              </>
            ) : (
              <ProductFacts product={p} />
            )}
            {p.status !== "draft" && (
              <>
                <h2>{t("潜在客户", "Prospects")}</h2>
                <Prospects id={id} />
              </>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

function ProductFacts({ product: p }: { product: Schemas["ProductView"] }) {
  return (
    <dl class="facts">
      <dt>{t("金额", "Amounts")}</dt>
      <dd>
        <Money fen={p.min_amount} /> – <Money fen={p.max_amount} />
      </dd>
      <dt>{t("利率", "Rates")}</dt>
      <dd>
        {bps(p.rate_bps_min)} – {bps(p.rate_bps_max)}
      </dd>
      <dt>{t("期限", "Terms")}</dt>
      <dd>{t(`${p.term_months_min}–${p.term_months_max} 个月`, `${p.term_months_min}–${p.term_months_max} months`)}</dd>
      <dt>{t("最低积分", "Minimum score")}</dt>
      <dd>{p.eligibility.min_score?.toFixed(2) ?? "—"}</dd>
      <dt>{t("额度", "Quota")}</dt>
      <dd>
        <Money fen={p.granted_total} /> / <Money fen={p.total_quota} />
      </dd>
      <dt>{t("循环授信", "Revolving")}</dt>
      <dd>{p.revolving ? t("是", "yes") : t("否", "no")}</dd>
    </dl>
  );
}

function Prospects({ id }: { id: string }) {
  const prospects = useLoad(
    () => unwrap(api.GET("/api/v1/products/{id}/prospects", { params: { path: { id }, query: { limit: 50 } } })),
    [id],
  );
  return (
    <Show loaded={prospects}>
      {(page) => (
        <Table
          rows={page.items}
          columns={[
            { label: t("企业", "Enterprise"), cell: (e: Schemas["ProspectView"]) => e.name },
            { label: t("积分", "Score"), cell: (e) => e.score.toFixed(2), numeric: true },
            { label: t("园区排名", "Rank"), cell: (e) => e.rank, numeric: true },
            { label: t("可贷上限", "Offer at most"), cell: (e) => <Money fen={e.offer_max_amount} />, numeric: true },
          ]}
        />
      )}
    </Show>
  );
}

