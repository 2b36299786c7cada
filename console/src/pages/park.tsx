// A park office's pages: the dashboard, the ranking (百强榜), score import, score models,
// recommendation lists, risk-compensation pools, interest subsidy programmes, and the park's
// enterprises.
import { useMemo, useState } from "preact/hooks";
import { api, idempotencyKey, unwrap, type Schemas } from "../api/client";
import { bps, day, percent } from "../format";
import { t, word } from "../i18n";
import type { Me } from "../main";
import { Card, Chart, ErrorBox, Field, Money, Paged, Show, Table, useLoad, yi } from "../ui";
import { EnterpriseRecommendations, ListPages, RecommendationShares } from "./recommendations";
import { RiskPoolPages, RiskPoolShares } from "./risk";
import { ScoreBreakdown, ScoreModelPages } from "./scores";
import { PolicyMoney, SubsidyPages, SubsidyProgramShares } from "./subsidy";

export function ParkPages({ me, route }: { me: Me; route: string[] }) {
  const park = me.park_id ?? "";
  switch (route[0]) {
    case "ranking":
      return <Ranking park={park} />;
    case "import":
      return <ScoreImport park={park} />;
    case "models":
      return <ScoreModelPages park={park} base="#/models" route={route.slice(1)} />;
    case "lists":
      return <ListPages park={park} route={route.slice(1)} />;
    case "pools":
      return <RiskPoolPages park={park} route={route.slice(1)} />;
    case "subsidies":
      return <SubsidyPages park={park} route={route.slice(1)} />;
    case "enterprises":
      return route[1] ? <EnterpriseDetail id={route[1]} modelHref={(model) => `#/models/${model}`} /> : <Enterprises park={park} />;
    default:
      return <Dashboard park={park} title={me.scope_name ?? ""} />;
  }
}

/** The totals, charts per bank and per month, loans outstanding and NPL, and SLA breaches. */
export function Dashboard({ park, title }: { park: string; title: string }) {
  const stats = useLoad(
    // JSON, not the CSV the same operation gives for `Accept: text/csv`.
    () =>
      unwrap(
        api.GET("/api/v1/parks/{id}/stats", { params: { path: { id: park } }, headers: { Accept: "application/json" } }),
      ) as Promise<Schemas["ParkStats"]>,
    [park],
  );
  const monthly = useLoad(
    () => unwrap(api.GET("/api/v1/parks/{id}/stats/monthly", { params: { path: { id: park } } })),
    [park],
  );
  return (
    <section>
      <h1>{t(`${title} · 总览`, `${title} · dashboard`)}</h1>
      <Show loaded={stats}>
        {(s) => (
          <>
            <StatsFigures stats={s} />
            <RecommendationShares rows={s.recommendations} />
            <PolicyMoney totals={s.policy_money} />
            <RiskPoolShares pools={s.risk_pools} link />
            <SubsidyProgramShares programs={s.subsidy_programs} link />
          </>
        )}
      </Show>
      <Show loaded={monthly}>{(m) => <MonthlyChart months={m.months} />}</Show>
    </section>
  );
}

type Totals = Schemas["ParkStats"] | Schemas["NationalStats"];

/** The figures every statistic reports, as cards; the banks and products as a chart and tables. */
export function StatsFigures({ stats }: { stats: Totals }) {
  const bankChart = useMemo(
    () => ({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: 48, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: stats.banks.map((b) => b.bank_name), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", name: t("亿元", "¥100 m") },
      series: [
        { name: t("授信", "Granted"), type: "bar", data: stats.banks.map((b) => yi(b.credit_granted)) },
        { name: t("放款", "Disbursed"), type: "bar", data: stats.banks.map((b) => yi(b.disbursed)) },
      ],
    }),
    [stats],
  );
  return (
    <>
      <p class="muted">{t(`贷款余额截至 ${stats.as_of}`, `Loan balances as of ${stats.as_of}`)}</p>
      <div class="cards">
        <Card id="enterprises_scored" label={t("参评企业", "Enterprises scored")}>
          {stats.enterprises_scored.toLocaleString()}
        </Card>
        <Card id="enterprises_with_credit" label={t("获贷企业", "Enterprises with credit")}>
          {stats.enterprises_with_credit.toLocaleString()}
        </Card>
        <Card id="credit_lines" label={t("授信笔数", "Credit lines")}>
          {stats.credit_lines.toLocaleString()}
        </Card>
        <Card id="credit_granted" label={t("授信金额", "Credit granted")}>
          <Money fen={stats.credit_granted} />
        </Card>
        <Card id="disbursed" label={t("放款金额", "Disbursed")}>
          <Money fen={stats.disbursed} />
        </Card>
        <Card id="principal_outstanding" label={t("贷款余额", "Outstanding")}>
          <Money fen={stats.principal_outstanding} />
        </Card>
        <Card id="overdue_principal" label={t("逾期本金", "Overdue principal")}>
          <Money fen={stats.overdue_principal} />
        </Card>
        <Card id="npl_balance" label={t("不良余额", "NPL balance")}>
          <Money fen={stats.npl_balance} />
        </Card>
        <Card id="npl_ratio" label={t("不良率", "NPL ratio")}>
          {percent(stats.npl_ratio)}
        </Card>
        <Card id="sla_breaches" label={t("超时审批", "SLA breaches")}>
          {stats.sla_breaches.toLocaleString()}
        </Card>
        <Card id="avg_approval" label={t("平均审批（工作日）", "Mean approval (working days)")}>
          {stats.avg_approval_working_days?.toFixed(2) ?? "—"}
        </Card>
      </div>
      <h2>{t("各银行授信与放款", "Granted and disbursed by bank")}</h2>
      <Chart option={bankChart} label={t("各银行授信与放款柱状图", "Bar chart of credit granted and disbursed by bank")} />
      <Table
        caption={t("按银行", "By bank")}
        rows={stats.banks}
        columns={[
          { label: t("银行", "Bank"), cell: (b) => b.bank_name },
          { label: t("授信笔数", "Lines"), cell: (b) => b.credit_lines, numeric: true },
          { label: t("授信金额", "Granted"), cell: (b) => <Money fen={b.credit_granted} />, numeric: true },
          { label: t("放款金额", "Disbursed"), cell: (b) => <Money fen={b.disbursed} />, numeric: true },
          { label: t("贷款余额", "Outstanding"), cell: (b) => <Money fen={b.principal_outstanding} />, numeric: true },
          { label: t("不良率", "NPL ratio"), cell: (b) => percent(b.npl_ratio), numeric: true },
          { label: t("风险补偿已代偿", "Risk claims paid"), cell: (b) => <Money fen={b.risk_claims_paid} />, numeric: true },
          { label: t("贴息已拨付", "Subsidies paid"), cell: (b) => <Money fen={b.subsidies_paid} />, numeric: true },
        ]}
      />
      <Table
        caption={t("按产品", "By product")}
        rows={stats.products}
        columns={[
          { label: t("产品", "Product"), cell: (p) => p.product_name },
          { label: t("银行", "Bank"), cell: (p) => p.bank_name },
          { label: t("授信笔数", "Lines"), cell: (p) => p.credit_lines, numeric: true },
          { label: t("授信金额", "Granted"), cell: (p) => <Money fen={p.credit_granted} />, numeric: true },
          { label: t("放款金额", "Disbursed"), cell: (p) => <Money fen={p.disbursed} />, numeric: true },
        ]}
      />
    </>
  );
}

function MonthlyChart({ months }: { months: Schemas["MonthRow"][] }) {
  const option = useMemo(
    () => ({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: 48, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: months.map((m) => m.month) },
      yAxis: { type: "value", name: t("亿元", "¥100 m") },
      series: [
        { name: t("授信", "Granted"), type: "line", data: months.map((m) => yi(m.credit_granted)) },
        { name: t("放款", "Disbursed"), type: "line", data: months.map((m) => yi(m.disbursed)) },
        { name: t("还本", "Principal repaid"), type: "line", data: months.map((m) => yi(m.principal_repaid)) },
      ],
    }),
    [months],
  );
  return (
    <>
      <h2>{t("按月", "By month")}</h2>
      <Chart option={option} label={t("按月授信、放款与还本折线图", "Line chart of credit granted, disbursed and repaid by month")} />
    </>
  );
}

const STAGES: Schemas["Stage"][] = ["startup", "growth", "mature"];

function Ranking({ park }: { park: string }) {
  const [period, setPeriod] = useState("");
  const [stage, setStage] = useState("");
  const ranking = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/parks/{id}/rankings", {
          params: {
            path: { id: park },
            query: { limit: 100, ...(period ? { period } : {}), ...(stage ? { stage: stage as Schemas["Stage"] } : {}) },
          },
        }),
      ),
    [park, period, stage],
  );
  return (
    <section>
      <h1>{t("百强榜", "Top 100")}</h1>
      <div class="filters">
        <Field label={t("期间", "Period")} hint={t("如 2022、2022-H1；留空为最新", "such as 2022 or 2022-H1; empty for the latest")}>
          <input value={period} onChange={(e) => setPeriod(e.currentTarget.value.trim())} placeholder="2022" />
        </Field>
        <Field label={t("阶段", "Stage")}>
          <select value={stage} onChange={(e) => setStage(e.currentTarget.value)}>
            <option value="">{t("全部", "All")}</option>
            {STAGES.map((s) => (
              <option value={s}>{word(s)}</option>
            ))}
          </select>
        </Field>
      </div>
      <Show loaded={ranking}>
        {(r) => (
          <>
            <p class="muted">
              {t(`期间：${r.period ?? "—"}`, `Period: ${r.period ?? "—"}`)}
              {r.stage ? t(`；${word(r.stage)}企业之间的排名`, `; ranked among ${word(r.stage)} enterprises`) : ""}
            </p>
            <Table
              rows={r.items}
              columns={[
                { label: t("名次", "Rank"), cell: (e) => e.rank, numeric: true },
                { label: t("企业", "Enterprise"), cell: (e) => <a href={`#/enterprises/${e.enterprise_id}`}>{e.name}</a> },
                { label: t("积分", "Score"), cell: (e) => e.score.toFixed(2), numeric: true },
                { label: t("阶段", "Stage"), cell: (e) => word(e.stage) },
                { label: t("百分位", "Percentile"), cell: (e) => e.percentile.toFixed(2), numeric: true },
              ]}
            />
          </>
        )}
      </Show>
    </section>
  );
}

function ScoreImport({ park }: { park: string }) {
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<Schemas["ImportResult"]>();
  const [busy, setBusy] = useState(false);
  return (
    <section>
      <h1>{t("积分导入", "Score import")}</h1>
      <p>
        {t(
          "上传 CSV：表头为 uscc,score,stage，其后可加指标列。整批导入：任一行有误则全部不导入，并列出每一行的错误。",
          "Upload a CSV with the header uscc,score,stage, then any indicator columns. All or nothing: one bad row and nothing is stored, and every bad row's errors are listed.",
        )}
      </p>
      <form
        class="form"
        onSubmit={async (event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const file = form.get("file") as File | null;
          const period = String(form.get("period") ?? "").trim();
          setBusy(true);
          setError(undefined);
          setResult(undefined);
          try {
            const csv = file ? await file.text() : "";
            const imported = await unwrap(
              api.POST("/api/v1/parks/{id}/scores", {
                params: { path: { id: park }, query: { period }, header: { "Idempotency-Key": idempotencyKey() } },
                body: csv as never,
                bodySerializer: (body: unknown) => body as string,
                headers: { "Content-Type": "text/csv" },
              }),
            );
            setResult(imported);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field label={t("期间", "Period")}>
          <input name="period" required placeholder="2023" />
        </Field>
        <Field label={t("CSV 文件", "CSV file")}>
          <input name="file" type="file" accept=".csv,text/csv" required />
        </Field>
        <button type="submit" disabled={busy}>
          {t("导入", "Import")}
        </button>
      </form>
      {result && (
        <p class="ok" role="status">
          {t(`已导入 ${result.imported} 家企业的 ${result.period} 积分。`, `Imported ${result.imported} scores for ${result.period}.`)}
        </p>
      )}
      <ErrorBox error={error} />
    </section>
  );
}

export function Enterprises({ park, title, href = (id) => `#/enterprises/${id}` }: { park: string; title?: string; href?: (id: string) => string }) {
  return (
    <section>
      <h1>{title ?? t("园区企业", "Enterprises of the park")}</h1>
      <Paged
        deps={[park]}
        load={(cursor) =>
          unwrap(api.GET("/api/v1/enterprises", { params: { query: { park_id: park, limit: 50, ...(cursor ? { cursor } : {}) } } }))
        }
        columns={[
          { label: t("企业", "Enterprise"), cell: (e: Schemas["Enterprise"]) => <a href={href(e.id)}>{e.name}</a> },
          { label: t("编号", "Id"), cell: (e) => e.id, numeric: true },
          { label: t("统一社会信用代码", "USCC"), cell: (e) => <code>{e.uscc}</code> },
          { label: t("行业", "Industry"), cell: (e) => e.industry },
          { label: t("成立日期", "Founded"), cell: (e) => day(e.founded_on) },
        ]}
      />
    </section>
  );
}

/** One enterprise: its score, applications and credit lines. */
export function EnterpriseDetail({ id, modelHref }: { id: string; modelHref?: (model: string) => string }) {
  const enterprise = useLoad(() => unwrap(api.GET("/api/v1/enterprises/{id}", { params: { path: { id } } })), [id]);
  return (
    <section>
      <Show loaded={enterprise}>
        {(e) => (
          <>
            <h1>{e.name}</h1>
            <p>
              <code>{e.uscc}</code> · {e.industry} · {t("成立于", "founded")} {day(e.founded_on)}
            </p>
          </>
        )}
      </Show>
      <ScorePanel id={id} modelHref={modelHref} />
      <h2>{t("贷款申请", "Applications")}</h2>
      <ApplicationsOf enterprise={id} />
      <h2>{t("授信", "Credit lines")}</h2>
      <LinesOf enterprise={id} />
      <EnterpriseRecommendations enterprise={id} />
    </section>
  );
}

/** An enterprise's latest score; a computed one with its breakdown and the model's version. */
export function ScorePanel({ id, modelHref }: { id: string; modelHref?: (model: string) => string }) {
  const score = useLoad(() => unwrap(api.GET("/api/v1/enterprises/{id}/score", { params: { path: { id } } })), [id]);
  return (
    <>
      <h2>{t("创新积分", "Innovation score")}</h2>
      <Show loaded={score}>
        {(s) => (
          <>
            <div class="cards">
              <Card id="score" label={t(`积分（${s.period}）`, `Score (${s.period})`)}>
                {s.score.toFixed(2)}
              </Card>
              <Card id="rank" label={t("园区排名", "Rank in the park")}>
                {s.rank} / {s.park_size}
              </Card>
              <Card id="percentile" label={t("百分位", "Percentile")}>
                {s.percentile.toFixed(2)}
              </Card>
              <Card id="stage" label={t("阶段", "Stage")}>
                {word(s.stage)}
              </Card>
              <Card id="stage_rank" label={t("同阶段排名", "Rank in its stage")}>
                {s.stage_rank} / {s.stage_size}
              </Card>
            </div>
            <ScoreBreakdown score={s} modelHref={modelHref} />
          </>
        )}
      </Show>
    </>
  );
}

export function ApplicationsOf({ enterprise }: { enterprise?: string }) {
  return (
    <Paged
      deps={[enterprise]}
      load={(cursor) =>
        unwrap(
          api.GET("/api/v1/applications", {
            params: { query: { limit: 20, ...(enterprise ? { enterprise_id: enterprise } : {}), ...(cursor ? { cursor } : {}) } },
          }),
        )
      }
      columns={[
        { label: t("提交日期", "Submitted"), cell: (a: Schemas["ApplicationView"]) => day(a.submitted_at) },
        { label: t("金额", "Amount"), cell: (a) => <Money fen={a.amount} />, numeric: true },
        { label: t("期限（月）", "Term (months)"), cell: (a) => a.term_months, numeric: true },
        { label: t("状态", "Status"), cell: (a) => word(a.status) },
        { label: t("原因", "Reason"), cell: (a) => a.decision_reason ?? "" },
      ]}
    />
  );
}

export function LinesOf({ enterprise, link }: { enterprise?: string; link?: boolean }) {
  return (
    <Paged
      deps={[enterprise]}
      load={(cursor) =>
        unwrap(
          api.GET("/api/v1/credit-lines", {
            params: { query: { limit: 20, ...(enterprise ? { enterprise_id: enterprise } : {}), ...(cursor ? { cursor } : {}) } },
          }),
        )
      }
      columns={[
        {
          label: t("授信", "Line"),
          cell: (l: Schemas["CreditLineView"]) => (link ? <a href={`#/lines/${l.id}`}>#{l.id}</a> : `#${l.id}`),
        },
        { label: t("授信日期", "Granted"), cell: (l) => day(l.granted_at) },
        { label: t("额度", "Amount"), cell: (l) => <Money fen={l.amount} />, numeric: true },
        { label: t("已放款", "Drawn"), cell: (l) => <Money fen={l.disbursed_total} />, numeric: true },
        { label: t("可用", "Available"), cell: (l) => <Money fen={l.available} />, numeric: true },
        { label: t("利率", "Rate"), cell: (l) => bps(l.rate_bps), numeric: true },
        { label: t("状态", "Status"), cell: (l) => word(l.status) },
      ]}
    />
  );
}
