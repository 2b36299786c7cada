// Interest subsidies (贴息) and the policies an enterprise qualifies for: a park office opens a
// programme with a budget, files claims for its enterprises and decides them; an enterprise sees
// the programmes and pool-covered products it qualifies for (and why not the others), claims the
// subsidy on the interest it repaid, and follows its claims.
import { useState } from "preact/hooks";
import { ApiFailure, api, idempotencyKey, unwrap, type Schemas } from "../api/client";
import { bps, day, figure, toFen } from "../format";
import { t, word } from "../i18n";
import { BankName, EnterpriseName, useBankNames } from "../names";
import { Card, type Column, ErrorBox, Field, Form, Money, Paged, Show, Table, text, useLoad } from "../ui";
import { Reasons } from "./enterprise";
import { ClaimState, ClaimStatusFilter, Decision } from "./risk";

type Program = Schemas["SubsidyProgramView"];
type Claim = Schemas["SubsidyClaimView"];

/** Today, YYYY-MM-DD, in the reader's time zone. */
function today(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** The window a claim on the programme counts by default: its first day to today, or its last day if earlier. */
function claimWindow(program: { from?: string; to?: string }): { from: string; to: string } {
  const now = today();
  const to = program.to && program.to < now ? program.to : now;
  return { from: program.from ?? to, to };
}

/** The share, with the first-loan bonus when there is one: 30% (+10% first loan). */
function shareWords(share: number | undefined, bonus: number | undefined): string {
  if (share === undefined) return "—";
  if (!bonus) return bps(share);
  return t(`${bps(share)}（首贷另加 ${bps(bonus)}）`, `${bps(share)} (+${bps(bonus)} on a first loan)`);
}

/** A programme's open state in words. */
function OpenState({ open }: { open: boolean }) {
  return <span data-open={open ? "true" : "false"}>{open ? t("申报期内", "open") : t("不在申报期", "closed")}</span>;
}

/** The eligibility rules that are set, in words. */
export function ruleWords(rules: Schemas["EligibilityRules"]): string {
  const parts: string[] = [];
  if (rules.min_score !== undefined) parts.push(t(`积分不低于 ${figure(rules.min_score)}`, `a score of at least ${figure(rules.min_score)}`));
  if (rules.max_park_rank !== undefined) parts.push(t(`园区排名前 ${rules.max_park_rank} 名`, `ranked in the park's top ${rules.max_park_rank}`));
  if (rules.min_percentile !== undefined) parts.push(t(`百分位不低于 ${rules.min_percentile}`, `a percentile of at least ${rules.min_percentile}`));
  if (rules.stages?.length) parts.push(t(`阶段为${rules.stages.map(word).join("、")}`, `at the ${rules.stages.map(word).join(", ")} stage`));
  if (rules.min_stage_percentile !== undefined)
    parts.push(t(`同阶段百分位不低于 ${rules.min_stage_percentile}`, `a percentile in its stage of at least ${rules.min_stage_percentile}`));
  if (rules.industries?.length) parts.push(t(`行业为 ${rules.industries.join("、")}`, `in ${rules.industries.join(", ")}`));
  if (rules.sizes?.length) parts.push(t(`规模为 ${rules.sizes.join("、")}`, `of size ${rules.sizes.join(", ")}`));
  if (rules.required_qualifications?.length)
    parts.push(t(`具备 ${rules.required_qualifications.join("、")}`, `holding ${rules.required_qualifications.join(", ")}`));
  if (rules.min_years_established !== undefined)
    parts.push(t(`成立满 ${rules.min_years_established} 年`, `founded at least ${rules.min_years_established} years ago`));
  if (rules.park_ids?.length) parts.push(t(`限园区 #${rules.park_ids.join("、#")}`, `in park #${rules.park_ids.join(", #")}`));
  return parts.length === 0 ? t("园区内所有企业", "every enterprise of the park") : parts.join(t("；", "; "));
}

/** The columns of a programme's figures: in the programme list and in the statistics. */
function programColumns(link: boolean): Column<Program>[] {
  return [
    {
      label: t("贴息项目", "Programme"),
      cell: (p) => (link ? <a href={`#/subsidies/${p.id}`}>{p.name}</a> : p.name),
    },
    { label: t("预算", "Budget"), cell: (p) => <Money fen={p.budget} />, numeric: true },
    { label: t("待审核", "Committed"), cell: (p) => <Money fen={p.committed} />, numeric: true },
    { label: t("已拨付", "Paid"), cell: (p) => <Money fen={p.paid} />, numeric: true },
    { label: t("剩余预算", "Remaining"), cell: (p) => <Money fen={p.remaining} />, numeric: true },
    { label: t("贴息比例", "Share"), cell: (p) => bps(p.share_bps), numeric: true },
    { label: t("首贷加贴", "First-loan bonus"), cell: (p) => bps(p.first_loan_bonus_bps), numeric: true },
    { label: t("每户上限", "Cap per enterprise"), cell: (p) => <Money fen={p.per_enterprise_cap} />, numeric: true },
    { label: t("计息期间", "Window"), cell: (p) => `${p.from} – ${p.to}` },
    { label: t("状态", "State"), cell: (p) => <OpenState open={p.open} /> },
  ];
}

/** The statistics' subsidy programmes, on the dashboards. */
export function SubsidyProgramShares({ programs, link }: { programs: Program[]; link?: boolean }) {
  return (
    <>
      <h2>{t("贴息项目", "Interest subsidy programmes")}</h2>
      <Table
        caption={t("贴息项目", "Subsidy programmes")}
        rows={programs}
        columns={programColumns(Boolean(link))}
        empty={t("尚未设立贴息项目。", "No interest subsidy programme yet.")}
      />
    </>
  );
}

/** The policy money (合) of the statistics: the pools today, and what pools and subsidies paid. */
export function PolicyMoney({ totals }: { totals: Schemas["PolicyTotals"] }) {
  return (
    <>
      <h2>{t("政策资金", "Policy money")}</h2>
      <div class="cards">
        <Card id="pool_balance" label={t("资金池余额", "Pool balance")}>
          <Money fen={totals.pool_balance} />
        </Card>
        <Card id="enrolled_outstanding" label={t("在保贷款余额", "Enrolled outstanding")}>
          <Money fen={totals.enrolled_outstanding} />
        </Card>
        <Card id="leverage" label={t("放大倍数", "Leverage")}>
          {totals.leverage === null ? "—" : `1:${figure(totals.leverage, 2)}`}
        </Card>
        <Card id="risk_claims_paid" label={t("风险补偿已代偿", "Risk claims paid")}>
          <Money fen={totals.risk_claims_paid} />
        </Card>
        <Card id="subsidies_paid" label={t("贴息已拨付", "Subsidies paid")}>
          <Money fen={totals.subsidies_paid} />
        </Card>
      </div>
    </>
  );
}

/** The park office's programme pages: the list with the form to open one, and each programme. */
export function SubsidyPages({ park, route }: { park: string; route: string[] }) {
  return route[0] ? <ProgramDetail id={route[0]} /> : <Programs park={park} />;
}

const STAGES: Schemas["Stage"][] = ["startup", "growth", "mature"];

function Programs({ park }: { park: string }) {
  const [changed, setChanged] = useState(0);
  return (
    <section>
      <h1>{t("贴息项目", "Interest subsidy programmes")}</h1>
      <p>
        {t(
          "园区设立贴息项目并安排预算：符合条件的园区企业在计息期间内已偿还的贷款利息，按贴息比例返还（企业在平台的首笔贷款另加首贷加贴比例），每户不超过上限。企业或园区提出申请，园区审核通过后从预算拨付，拨付总额不超过预算。",
          "The park opens a programme with a budget: enterprises of the park that meet its rules get back a share of the interest they repaid within its window (plus the bonus on their first loan on the platform), at most the cap per enterprise. The enterprise or the park office files a claim; once the office approves it, the budget pays it, never past the budget.",
        )}
      </p>
      <Paged
        deps={[park, changed]}
        caption={t("贴息项目列表", "Programmes")}
        load={(cursor) =>
          unwrap(
            api.GET("/api/v1/parks/{id}/subsidy-programs", {
              params: { path: { id: park }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
            }),
          )
        }
        columns={programColumns(true)}
      />
      <h2>{t("设立贴息项目", "Open a programme")}</h2>
      <Form
        submit={t("设立项目", "Open the programme")}
        done={t("已设立贴息项目。", "The programme is open.")}
        action={async (form, key) => {
          const body = programFrom(form);
          const program = await unwrap(
            api.POST("/api/v1/parks/{id}/subsidy-programs", { params: { path: { id: park }, header: { "Idempotency-Key": key } }, body }),
          );
          setChanged((n) => n + 1);
          location.hash = `#/subsidies/${program.id}`;
        }}
      >
        <Field label={t("名称", "Name")}>
          <input name="name" required maxLength={128} placeholder={t("如 2026 年度科技型企业贷款贴息", "such as the 2026 loan interest subsidy")} />
        </Field>
        <Field label={t("贴息比例（%）", "Share (%)")} hint={t("已还利息中返还的比例，如 30", "the share of interest repaid that is returned, such as 30")}>
          <input name="share" inputMode="decimal" required placeholder="30" />
        </Field>
        <Field
          label={t("首贷加贴（%）", "First-loan bonus (%)")}
          hint={t("企业首笔贷款的利息另加的比例，可为 0；与贴息比例合计不超过 100", "added on the first loan's interest, may be 0; with the share at most 100")}
        >
          <input name="bonus" inputMode="decimal" placeholder="0" />
        </Field>
        <Field label={t("每户上限（元）", "Cap per enterprise (yuan)")}>
          <input name="per_enterprise_cap" inputMode="decimal" required placeholder="200000" />
        </Field>
        <Field label={t("预算（元）", "Budget (yuan)")}>
          <input name="budget" inputMode="decimal" required placeholder="5000000" />
        </Field>
        <Field label={t("最低积分", "Minimum score")} hint={t("留空则不限", "empty for none")}>
          <input name="min_score" inputMode="decimal" placeholder="60" />
        </Field>
        <fieldset class="choices">
          <legend>{t("企业阶段（不选则不限）", "Stages (none chosen for any)")}</legend>
          <div class="options">
            {STAGES.map((s) => (
              <label class="check">
                <input type="checkbox" name="stages" value={s} /> {word(s)}
              </label>
            ))}
          </div>
        </fieldset>
        <Field label={t("计息起始日", "Interest repaid from")}>
          <input name="from" type="date" required />
        </Field>
        <Field label={t("计息截止日", "Interest repaid until")}>
          <input name="to" type="date" required />
        </Field>
      </Form>
    </section>
  );
}

/** A percentage typed by a person, to basis points; null when it is not one from 0 to 100. */
function toBps(value: string): number | null {
  const text = value.trim().replace(/%$/, "");
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null;
  const percent = Number(text);
  return percent > 100 ? null : Math.round(percent * 100);
}

/** The programme form's fields, checked: every bad field named at once. */
function programFrom(form: FormData): Schemas["NewSubsidyProgram"] {
  const details: Schemas["ErrorDetail"][] = [];
  const name = text(form, "name");
  const share = toBps(text(form, "share"));
  const bonus = toBps(text(form, "bonus") || "0");
  const cap = toFen(text(form, "per_enterprise_cap"));
  const budget = toFen(text(form, "budget"));
  const minScore = text(form, "min_score");
  const stages = form.getAll("stages").map(String) as Schemas["Stage"][];
  const from = text(form, "from");
  const to = text(form, "to");
  if (!name) details.push({ field: "name", message: t("请填写名称", "give it a name") });
  if (share === null || share < 1)
    details.push({ field: "share_bps", message: t("贴息比例应为 0–100 之间的百分数，最多两位小数", "a percentage above 0 and at most 100, at most two decimals") });
  if (bonus === null)
    details.push({ field: "first_loan_bonus_bps", message: t("首贷加贴应为 0–100 之间的百分数，最多两位小数", "a percentage from 0 to 100, at most two decimals") });
  else if (share !== null && share + bonus > 10_000)
    details.push({ field: "first_loan_bonus_bps", message: t("贴息比例与首贷加贴合计不能超过 100%", "the share and the bonus together are at most 100%") });
  if (cap === null || cap < 1) details.push({ field: "per_enterprise_cap", message: t("每户上限应为元，最多两位小数", "an amount in yuan, at most two decimals") });
  if (budget === null || budget < 1) details.push({ field: "budget", message: t("预算应为元，最多两位小数", "an amount in yuan, at most two decimals") });
  if (minScore && (!/^\d+(\.\d{1,2})?$/.test(minScore) || Number(minScore) > 1000))
    details.push({ field: "min_score", message: t("最低积分应为 0–1000，最多两位小数", "a score from 0 to 1000, at most two decimals") });
  if (from && to && to < from) details.push({ field: "to", message: t("截止日不能早于起始日", "the last day may not be before the first") });
  if (details.length > 0) {
    throw new ApiFailure(422, {
      code: "validation_failed",
      message: t("贴息项目的设置有误，请改正后再提交。", "Some of the programme's fields are not valid; correct them and submit again."),
      details,
    });
  }
  const eligibility: Schemas["EligibilityRules"] = {
    ...(minScore ? { min_score: Number(minScore) } : {}),
    ...(stages.length > 0 ? { stages } : {}),
  };
  return { name, share_bps: share!, first_loan_bonus_bps: bonus!, per_enterprise_cap: cap!, budget: budget!, eligibility, from, to };
}

/** One programme: its figures and rules, the form to claim for an enterprise, and its claims to decide. */
function ProgramDetail({ id }: { id: string }) {
  const program = useLoad(() => unwrap(api.GET("/api/v1/subsidy-programs/{id}", { params: { path: { id } } })), [id]);
  const [changed, setChanged] = useState(0);
  const [filed, setFiled] = useState<Claim>();
  const refresh = () => {
    program.reload();
    setChanged((n) => n + 1);
  };
  return (
    <section>
      <p>
        <a href="#/subsidies">{t("← 全部贴息项目", "← All programmes")}</a>
      </p>
      <Show loaded={program}>
        {(p) => (
          <>
            <h1>{p.name}</h1>
            <div class="cards">
              <Card id="budget" label={t("预算", "Budget")}>
                <Money fen={p.budget} />
              </Card>
              <Card id="committed" label={t("待审核", "Committed")}>
                <Money fen={p.committed} />
              </Card>
              <Card id="paid" label={t("已拨付", "Paid")}>
                <Money fen={p.paid} />
              </Card>
              <Card id="remaining" label={t("剩余预算", "Remaining")}>
                <Money fen={p.remaining} />
              </Card>
            </div>
            <dl class="facts">
              <dt>{t("贴息比例", "Share")}</dt>
              <dd>{shareWords(p.share_bps, p.first_loan_bonus_bps)}</dd>
              <dt>{t("每户上限", "Cap per enterprise")}</dt>
              <dd>
                <Money fen={p.per_enterprise_cap} />
              </dd>
              <dt>{t("计息期间", "Window")}</dt>
              <dd>
                {p.from} – {p.to} · <OpenState open={p.open} />
              </dd>
              <dt>{t("申请条件", "Who qualifies")}</dt>
              <dd>{ruleWords(p.eligibility)}</dd>
              <dt>{t("设立日期", "Opened")}</dt>
              <dd>{day(p.created_at)}</dd>
            </dl>
            <h2>{t("代企业申请贴息", "File a claim for an enterprise")}</h2>
            <p class="muted">
              {t(
                "贴息金额由服务按企业在所填期间内已偿还、且本项目尚未计入的利息计算。企业编号见“园区企业”页。",
                "The service computes the amount from the interest the enterprise repaid in the days given that no claim of the programme counts yet. Enterprise ids are on the Enterprises page.",
              )}
            </p>
            <Form
              submit={t("提交申请", "File the claim")}
              action={async (form, key) => {
                const enterprise = text(form, "enterprise_id");
                const from = text(form, "from");
                const to = text(form, "to");
                const details: Schemas["ErrorDetail"][] = [];
                if (!/^\d+$/.test(enterprise)) details.push({ field: "enterprise_id", message: t("企业编号应为数字", "an enterprise id is a number") });
                if (from && to && to < from) details.push({ field: "to", message: t("截止日不能早于起始日", "the last day may not be before the first") });
                if (details.length > 0) {
                  throw new ApiFailure(422, { code: "validation_failed", message: t("申请信息有误。", "The claim is not valid."), details });
                }
                setFiled(undefined);
                const claim = await unwrap(
                  api.POST("/api/v1/subsidy-programs/{id}/claims", {
                    params: { path: { id }, header: { "Idempotency-Key": key } },
                    body: { enterprise_id: enterprise, from, to },
                  }),
                );
                setFiled(claim);
                refresh();
              }}
            >
              <Field label={t("企业编号", "Enterprise id")}>
                <input name="enterprise_id" inputMode="numeric" required maxLength={20} />
              </Field>
              <Field label={t("还息起始日", "Interest repaid from")}>
                <input name="from" type="date" required defaultValue={claimWindow(p).from} min={p.from} max={p.to} />
              </Field>
              <Field label={t("还息截止日", "Interest repaid until")}>
                <input name="to" type="date" required defaultValue={claimWindow(p).to} min={p.from} max={p.to} />
              </Field>
            </Form>
            {filed && <Filed claim={filed} />}
          </>
        )}
      </Show>
      <h2>{t("贴息申请", "Claims")}</h2>
      <SubsidyClaims program={id} deps={[changed]} decide onDecided={refresh} />
    </section>
  );
}

/** The claim just filed, with what it counts and pays. */
function Filed({ claim }: { claim: Claim }) {
  return (
    <p class="ok" role="status" data-claim={claim.id}>
      {t(`已提交贴息申请 #${claim.id}：`, `Claim #${claim.id} filed: `)}
      <Money fen={claim.amount} />
      {t("，计入利息 ", ", on interest of ")}
      <Money fen={claim.interest_basis} />
      {t(`（${claim.repayments} 笔还款），待园区审核。`, ` (${claim.repayments} repayments), for the park office to decide.`)}
    </p>
  );
}

/** Subsidy claims, of a programme or all the key may see; with approve and reject for the park office. */
function SubsidyClaims({
  program,
  deps = [],
  decide,
  onDecided,
  names,
}: {
  program?: string;
  deps?: unknown[];
  decide?: boolean;
  onDecided?: () => void;
  names?: Map<string, string>;
}) {
  const [status, setStatus] = useState("");
  const [deciding, setDeciding] = useState(0);
  return (
    <>
      <ClaimStatusFilter name="subsidy_claim_status" value={status} onChange={setStatus} />
      <Paged
        deps={[program, status, deciding, ...deps]}
        caption={t("贴息申请明细", "Subsidy claims, one by one")}
        load={(cursor) =>
          unwrap(
            api.GET("/api/v1/subsidy-claims", {
              params: {
                query: {
                  limit: 50,
                  ...(program ? { program_id: program } : {}),
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
          program
            ? { label: t("企业", "Enterprise"), cell: (c: Claim) => <EnterpriseName id={c.enterprise_id} /> }
            : { label: t("贴息项目", "Programme"), cell: (c: Claim) => names?.get(c.program_id) ?? `#${c.program_id}` },
          { label: t("还息期间", "Interest repaid"), cell: (c) => `${c.from} – ${c.to}` },
          { label: t("计入利息", "Interest basis"), cell: (c) => <Money fen={c.interest_basis} />, numeric: true },
          { label: t("还款笔数", "Repayments"), cell: (c) => c.repayments, numeric: true },
          { label: t("贴息金额", "Amount"), cell: (c) => <Money fen={c.amount} />, numeric: true },
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
                        approve={() => api.POST("/api/v1/subsidy-claims/{id}/approve", { params: { path: { id: c.id } }, body: {} })}
                        reject={(why) => api.POST("/api/v1/subsidy-claims/{id}/reject", { params: { path: { id: c.id } }, body: { reason: why } })}
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

/** The enterprise's policies: what it qualifies for, with the claim button; what not, and why; its claims. */
export function EnterprisePolicies({ enterprise }: { enterprise: string }) {
  const policies = useLoad(() => unwrap(api.GET("/api/v1/enterprises/{id}/policies", { params: { path: { id: enterprise } } })), [enterprise]);
  const banks = useBankNames();
  const [changed, setChanged] = useState(0);
  const names = new Map<string, string>();
  for (const p of [...(policies.data?.eligible ?? []), ...(policies.data?.ineligible ?? [])]) {
    if (p.policy.kind === "subsidy_program") names.set(p.policy.id, p.policy.name);
  }
  return (
    <section>
      <h1>{t("政策匹配", "Policies")}</h1>
      <p>
        {t(
          "园区的贴息项目，以及园区风险补偿资金池覆盖的贷款产品，按与产品匹配相同的规则判断。符合条件的贴息项目显示按已偿还、尚未申请的利息估算的贴息金额，可直接申请。",
          "The park's interest subsidy programmes, and the loan products its risk pools cover, judged by the same rules as product matches. A programme it qualifies for shows the subsidy estimated on the interest repaid and not yet claimed, and can be claimed here.",
        )}
      </p>
      <Show loaded={policies}>
        {(m) => (
          <>
            <h2>{t(`可享受的政策（${m.eligible.length}）`, `Policies it qualifies for (${m.eligible.length})`)}</h2>
            {m.eligible.length === 0 && <p class="muted">{t("暂无符合条件的政策。", "None yet.")}</p>}
            <ul class="products">
              {m.eligible.map((e) => (
                <li class="product policy eligible" data-kind={e.policy.kind} data-policy={e.policy.name}>
                  <PolicyLine policy={e.policy} bank={e.policy.bank_id ? banks?.get(e.policy.bank_id) : undefined} />
                  {e.policy.kind === "subsidy_program" ? (
                    <>
                      <span data-estimate>
                        {t("预计可获贴息", "estimated subsidy")} <Money fen={e.estimated_amount ?? 0} />
                      </span>
                      <ClaimButton
                        policy={e.policy}
                        onFiled={() => {
                          policies.reload();
                          setChanged((n) => n + 1);
                        }}
                      />
                    </>
                  ) : (
                    <>
                      <span>
                        {t("最高可贷", "up to")} <Money fen={e.offer_max_amount} />
                      </span>
                      {e.policy.product_id && (
                        <a class="button" href={`#/apply/${e.policy.product_id}`}>
                          {t("申请贷款", "Apply")}
                        </a>
                      )}
                    </>
                  )}
                </li>
              ))}
            </ul>
            <h2>{t(`暂不符合的政策（${m.ineligible.length}）`, `Policies it does not qualify for (${m.ineligible.length})`)}</h2>
            {m.ineligible.length === 0 && <p class="muted">{t("无。", "None.")}</p>}
            <ul class="products">
              {m.ineligible.map((i) => (
                <li class="product policy ineligible" data-kind={i.policy.kind} data-policy={i.policy.name}>
                  <PolicyLine policy={i.policy} bank={i.policy.bank_id ? banks?.get(i.policy.bank_id) : undefined} />
                  <Reasons failed={i.failed} />
                </li>
              ))}
            </ul>
          </>
        )}
      </Show>
      <h2>{t("我的贴息申请", "My subsidy claims")}</h2>
      <SubsidyClaims deps={[changed]} names={names} />
    </section>
  );
}

/** A policy in one line: a programme's share, cap, budget left and window; a pool's product, bank and coverage. */
function PolicyLine({ policy: p, bank }: { policy: Schemas["PolicyView"]; bank?: string }) {
  if (p.kind === "subsidy_program") {
    return (
      <span class="product-line">
        <span class="tag">{t("贴息", "subsidy")}</span>
        <strong>{p.name}</strong> · {t("贴息比例", "share")} {shareWords(p.share_bps, p.first_loan_bonus_bps)} · {t("每户上限", "cap")}{" "}
        <Money fen={p.per_enterprise_cap} /> · {t("剩余预算", "budget left")} <Money fen={p.remaining_budget} /> · {p.from} – {p.to}
      </span>
    );
  }
  return (
    <span class="product-line">
      <span class="tag">{t("风险补偿", "risk pool")}</span>
      <strong>{p.product_name ?? t(`产品 #${p.product_id}`, `product #${p.product_id}`)}</strong> ·{" "}
      {p.bank_id ? (bank ?? <BankName id={p.bank_id} />) : "—"} · {p.name} · {t("补偿比例", "coverage")}{" "}
      {p.coverage_bps === undefined ? "—" : bps(p.coverage_bps)} · {t("单笔上限", "cap per loan")} <Money fen={p.per_loan_cap} />
    </span>
  );
}

/** Claims the subsidy on the programme's window up to today, showing the claim or why not. */
function ClaimButton({ policy, onFiled }: { policy: Schemas["PolicyView"]; onFiled: () => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [filed, setFiled] = useState<Claim>();
  // One key per claim asked for: a retry after a lost answer is the same claim.
  const [attempt, setAttempt] = useState(idempotencyKey);
  const { from, to } = claimWindow(policy);
  return (
    <>
      <button
        type="button"
        disabled={busy}
        title={t(`计入 ${from} 至 ${to} 已偿还的利息`, `interest repaid from ${from} to ${to}`)}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            const claim = await unwrap(
              api.POST("/api/v1/subsidy-programs/{id}/claims", {
                params: { path: { id: policy.id }, header: { "Idempotency-Key": attempt } },
                body: { from, to },
              }),
            );
            setFiled(claim);
            setAttempt(idempotencyKey());
            onFiled();
          } catch (e) {
            setError(e);
            if (!(e instanceof ApiFailure) || (e.status >= 400 && e.status < 500)) setAttempt(idempotencyKey());
          } finally {
            setBusy(false);
          }
        }}
      >
        {t("申请贴息", "Claim")}
      </button>
      {filed && <Filed claim={filed} />}
      <ErrorBox error={error} />
    </>
  );
}
