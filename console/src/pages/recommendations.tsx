// Recommendation lists (白名单推送): a park office names enterprises with their needs, or a rule
// over its latest scores, for some banks; once published each bank has a task per enterprise, due
// in Chinese working days, and answers it: contacted, credit granted, or declined with a reason.
// The bank's task list and answer form, the enterprise's record, and the tallies per bank.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiFailure, api, unwrap, type Schemas } from "../api/client";
import { day, money, percent, toFen } from "../format";
import { listStatus, t, word } from "../i18n";
import { BankName, useBankNames, useBanks } from "../names";
import { Action, type Column, Field, Form, LocalPaged, Money, Paged, Show, Table, text, useLoad } from "../ui";

type Task = Schemas["RecommendationTaskView"];
type Tally = Schemas["BankTallyView"];

const STAGES: Schemas["Stage"][] = ["startup", "growth", "mature"];

/** How one bank's tasks stand: the columns of a list's tallies and of the park's statistics. */
function tallyColumns<T extends Tally>(bank: (row: T) => ComponentChildren): Column<T>[] {
  return [
    { label: t("银行", "Bank"), cell: bank },
    { label: t("任务", "Tasks"), cell: (b) => b.tasks, numeric: true },
    { label: t("已答复", "Answered"), cell: (b) => b.answered, numeric: true },
    { label: t("已对接或授信", "Taken up"), cell: (b) => b.taken_up, numeric: true },
    { label: t("已授信", "Credit granted"), cell: (b) => b.credit_granted, numeric: true },
    { label: t("已婉拒", "Declined"), cell: (b) => b.declined, numeric: true },
    { label: t("对接率", "Take-up rate"), cell: (b) => percent(b.take_up_rate), numeric: true },
    {
      label: t("答复用时中位数（工作日）", "Median response (working days)"),
      cell: (b) => (b.median_response_working_days === null ? "—" : b.median_response_working_days.toFixed(1)),
      numeric: true,
    },
    {
      label: t("逾期未答", "Overdue"),
      cell: (b) => <span class={b.overdue > 0 ? "bad" : undefined}>{b.overdue}</span>,
      numeric: true,
    },
    { label: t("逾期后答复", "Answered late"), cell: (b) => b.answered_late, numeric: true },
  ];
}

/** The park's statistics: each bank's record on the park's recommendation lists. */
export function RecommendationShares({ rows }: { rows: Schemas["RecommendationShare"][] }) {
  return (
    <>
      <h2>{t("推荐清单的银行对接情况", "Banks' answers to the recommendation lists")}</h2>
      <p class="muted">
        {t(
          "对接率为已对接或已授信的任务占全部任务之比；答复用时自发布日起按工作日计。",
          "The take-up rate is the share of tasks contacted or granted credit; response times count working days from publication.",
        )}
      </p>
      <Table
        caption={t("按银行（推荐清单）", "By bank (recommendation lists)")}
        rows={rows}
        columns={tallyColumns((r: Schemas["RecommendationShare"]) => r.bank_name)}
        empty={t("本期尚无发布的推荐清单。", "No recommendation list was published in this period.")}
      />
    </>
  );
}

/** A task's status in words, with a marker when it is open past its deadline. */
function TaskState({ task }: { task: Task }) {
  return (
    <span data-status={task.status}>
      {word(task.status)}
      {task.overdue && (
        <>
          {" "}
          <span class="tag bad" data-overdue>
            {t("已逾期", "overdue")}
          </span>
        </>
      )}
    </span>
  );
}

/** The enterprise a task is about: its name, with its USCC on hover. */
function TaskFirm({ task }: { task: Task }) {
  return (
    <span data-enterprise={task.enterprise_id} title={task.uscc}>
      {task.enterprise_name}
    </span>
  );
}

/** What the enterprise says it needs: amount, term and purpose. */
function Need({ need }: { need: { amount?: number; term_months?: number; purpose?: string } }) {
  const parts: ComponentChildren[] = [];
  if (need.amount !== undefined) parts.push(<Money fen={need.amount} />);
  if (need.term_months !== undefined) parts.push(t(`${need.term_months} 个月`, `${need.term_months} months`));
  if (need.purpose) parts.push(need.purpose);
  if (parts.length === 0) return <span class="muted">{t("未填写", "not stated")}</span>;
  return (
    <span class="need">
      {parts.map((p, i) => (
        <>
          {i > 0 && " · "}
          {p}
        </>
      ))}
    </span>
  );
}

function Due({ task }: { task: Task }) {
  return <span class={task.overdue ? "bad" : undefined}>{task.due_on}</span>;
}

export function ListPages({ park, route }: { park: string; route: string[] }) {
  if (route[0] === "new") return <NewList park={park} />;
  if (route[0]) return <ListDetail id={route[0]} />;
  return <Lists park={park} />;
}

function Lists({ park }: { park: string }) {
  const banks = useBankNames();
  return (
    <section>
      <h1>{t("推荐清单", "Recommendation lists")}</h1>
      <p>
        {t(
          "园区把企业及其融资需求推荐给银行。清单发布后，每家银行对清单上的每家企业各有一项任务，须在规定的工作日内答复：已对接、已授信或婉拒（说明原因）。",
          "The park recommends enterprises, with their needs, to banks. Once a list is published, each bank has a task per enterprise on it, to answer within the working days set: contacted, credit granted, or declined with a reason.",
        )}
      </p>
      <p>
        <a class="button" href="#/lists/new">
          {t("新建推荐清单", "New recommendation list")}
        </a>
      </p>
      <Paged
        deps={[park]}
        load={(cursor) =>
          unwrap(api.GET("/api/v1/recommendation-lists", { params: { query: { park_id: park, limit: 50, ...(cursor ? { cursor } : {}) } } }))
        }
        columns={[
          { label: t("清单", "List"), cell: (l: Schemas["RecommendationListView"]) => <a href={`#/lists/${l.id}`}>{l.name}</a> },
          { label: t("状态", "Status"), cell: (l) => listStatus(l.status) },
          { label: t("企业", "Enterprises"), cell: (l) => l.entry_count, numeric: true },
          {
            label: t("银行", "Banks"),
            cell: (l) => l.bank_ids.map((id) => banks?.get(id) ?? `#${id}`).join(t("、", ", ")),
          },
          { label: t("答复时限", "Answer within"), cell: (l) => t(`${l.respond_within_working_days} 个工作日`, `${l.respond_within_working_days} working days`) },
          { label: t("发布日", "Published"), cell: (l) => l.published_on ?? "—" },
          { label: t("答复截止", "Due"), cell: (l) => l.due_on ?? "—" },
        ]}
      />
    </section>
  );
}

/**
 * The enterprises typed one a line: `id, amount in yuan, term in months, purpose`; the need
 * optional. With each entry, the line it was typed on.
 */
function parseEntries(lines: string): { entries: Schemas["NewEntry"][]; lineOf: number[] } {
  const entries: Schemas["NewEntry"][] = [];
  const lineOf: number[] = [];
  const details: Schemas["ErrorDetail"][] = [];
  lines.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    const row = index + 1;
    const [id = "", amount = "", term = "", ...purpose] = line.split(/[,，\t]/).map((p) => p.trim());
    const entry: Schemas["NewEntry"] = { enterprise_id: id };
    if (!/^\d+$/.test(id)) details.push({ row, field: "enterprise_id", message: t("企业编号应为数字", "an enterprise id is a number") });
    if (amount) {
      const fen = toFen(amount);
      if (fen === null || fen < 1) details.push({ row, field: "amount", message: t("金额应为元，最多两位小数", "an amount in yuan, at most two decimals") });
      else entry.amount = fen;
    }
    if (term) {
      const months = Number(term);
      if (!Number.isInteger(months) || months < 1 || months > 120)
        details.push({ row, field: "term_months", message: t("期限应为 1–120 个月", "a term of 1 to 120 months") });
      else entry.term_months = months;
    }
    const words = purpose.join("，").trim();
    if (words) entry.purpose = words;
    entries.push(entry);
    lineOf.push(row);
  });
  if (details.length > 0) {
    throw new ApiFailure(422, {
      code: "validation_failed",
      message: t("企业名单有误，请改正后再提交。", "Some lines of the enterprises are not valid; correct them and submit again."),
      details,
    });
  }
  if (entries.length === 0) throw new Error(t("请至少填写一家企业。", "Name at least one enterprise."));
  return { entries, lineOf };
}

/** The service's `entries[3].amount` as the line it was typed on. */
function onLines(error: unknown, lineOf: number[]): unknown {
  if (!(error instanceof ApiFailure)) return error;
  const details = error.info.details.map((d) => {
    const at = d.field?.match(/^entries\[(\d+)\]\.?(.*)$/);
    const line = at ? lineOf[Number(at[1])] : undefined;
    return at && line !== undefined ? { ...d, row: line, field: at[2] || undefined } : d;
  });
  return new ApiFailure(error.status, { ...error.info, details });
}

function NewList({ park }: { park: string }) {
  const banks = useBanks();
  const [mode, setMode] = useState<"rule" | "entries">("rule");
  return (
    <section>
      <p>
        <a href="#/lists">{t("← 全部清单", "← All lists")}</a>
      </p>
      <h1>{t("新建推荐清单", "New recommendation list")}</h1>
      <p class="muted">{t("保存为草稿；发布后才会推送给银行。", "Saved as a draft; the banks get it once it is published.")}</p>
      <Form
        submit={t("保存为草稿", "Save as draft")}
        action={async (form, key) => {
          const bankIds = form.getAll("bank").map(String);
          if (bankIds.length === 0) throw new Error(t("请至少选择一家银行。", "Choose at least one bank."));
          const days = Number(text(form, "days"));
          const base = { name: text(form, "name"), bank_ids: bankIds, respond_within_working_days: days };
          let body: Schemas["NewRecommendationList"];
          let lineOf: number[] = [];
          if (mode === "rule") {
            const top = text(form, "top");
            const minScore = text(form, "min_score");
            const stages = STAGES.filter((s) => form.get(`stage_${s}`) === "on");
            body = {
              ...base,
              rule: {
                ...(top ? { top: Number(top) } : {}),
                ...(minScore ? { min_score: Number(minScore) } : {}),
                ...(stages.length > 0 ? { stages } : {}),
              },
            };
          } else {
            const parsed = parseEntries(text(form, "entries"));
            lineOf = parsed.lineOf;
            body = { ...base, entries: parsed.entries };
          }
          const created = await unwrap(
            api.POST("/api/v1/parks/{id}/recommendation-lists", { params: { path: { id: park }, header: { "Idempotency-Key": key } }, body }),
          ).catch((e) => {
            throw onLines(e, lineOf);
          });
          location.hash = `#/lists/${created.id}`;
        }}
      >
        <Field label={t("名称", "Name")}>
          <input name="name" required maxLength={128} placeholder={t("创新积分白名单（第一季度）", "Innovation-score whitelist, Q1")} />
        </Field>
        <fieldset class="choices">
          <legend>{t("推送给哪些银行（可多选）", "The banks it goes to (one or more)")}</legend>
          <Show loaded={banks}>
            {(list) => (
              <div class="options">
                {list.map((b) => (
                  <label class="check">
                    <input type="checkbox" name="bank" value={b.id} /> {b.name}
                  </label>
                ))}
              </div>
            )}
          </Show>
        </fieldset>
        <Field label={t("答复时限（工作日）", "Answer within (working days)")} hint={t("1–60 个工作日，自发布日起按法定工作日计", "1 to 60 Chinese working days from publication")}>
          <input name="days" type="number" inputMode="numeric" required min={1} max={60} defaultValue="5" />
        </Field>
        <fieldset class="choices">
          <legend>{t("选取企业", "Choose the enterprises")}</legend>
          <label class="check">
            <input type="radio" name="mode" value="rule" checked={mode === "rule"} onChange={() => setMode("rule")} />{" "}
            {t("按规则，从园区最新积分中选取", "By a rule over the park's latest scores")}
          </label>
          <label class="check">
            <input type="radio" name="mode" value="entries" checked={mode === "entries"} onChange={() => setMode("entries")} />{" "}
            {t("逐一指定企业及其需求", "Name each enterprise, with its need")}
          </label>
        </fieldset>
        {mode === "rule" ? (
          <div class="grid">
            <Field label={t("积分前 N 名（可选）", "The best N (optional)")}>
              <input name="top" type="number" inputMode="numeric" min={1} max={2000} placeholder="30" />
            </Field>
            <Field label={t("最低积分（可选）", "Minimum score (optional)")}>
              <input name="min_score" inputMode="decimal" placeholder="60" />
            </Field>
            <fieldset class="check">
              <legend>{t("限定阶段（不选为全部）", "Stages (none for all)")}</legend>
              {STAGES.map((s) => (
                <label>
                  <input name={`stage_${s}`} type="checkbox" /> {word(s)}
                </label>
              ))}
            </fieldset>
          </div>
        ) : (
          <Field
            label={t("企业（每行一家）", "Enterprises (one a line)")}
            hint={t(
              "每行：企业编号, 金额（元）, 期限（月）, 用途；需求可省略。企业编号见“园区企业”页。",
              "Each line: enterprise id, amount (yuan), term (months), purpose; the need may be left out. Ids are on the Enterprises page.",
            )}
          >
            <textarea name="entries" rows={8} required spellcheck={false} placeholder={"7738, 1000000, 12, 研发投入\n8371"} />
          </Field>
        )}
      </Form>
    </section>
  );
}

function ruleWords(rule: Schemas["RuleSpec"]): string {
  const parts = [
    rule.top !== undefined ? t(`积分前 ${rule.top} 名`, `the best ${rule.top}`) : "",
    rule.min_score !== undefined ? t(`积分不低于 ${rule.min_score}`, `scoring at least ${rule.min_score}`) : "",
    rule.stages?.length ? t(`阶段：${rule.stages.map(word).join("、")}`, `stages: ${rule.stages.map(word).join(", ")}`) : "",
  ].filter(Boolean);
  return t("按规则：", "By rule: ") + (parts.length ? parts.join(t("；", "; ")) : t("园区全部已评分企业", "every scored enterprise of the park"));
}

function ListDetail({ id }: { id: string }) {
  const list = useLoad(() => unwrap(api.GET("/api/v1/recommendation-lists/{id}", { params: { path: { id } } })), [id]);
  const banks = useBankNames();
  return (
    <section>
      <p>
        <a href="#/lists">{t("← 全部清单", "← All lists")}</a>
      </p>
      <Show loaded={list}>
        {(l) => (
          <>
            <h1>
              {l.name} <span class="tag" data-status={l.status}>{listStatus(l.status)}</span>
            </h1>
            <dl class="facts">
              <dt>{t("银行", "Banks")}</dt>
              <dd>{l.bank_ids.map((b) => banks?.get(b) ?? `#${b}`).join(t("、", ", "))}</dd>
              <dt>{t("选取方式", "Chosen")}</dt>
              <dd>{l.rule ? ruleWords(l.rule) : t("逐一指定", "named one by one")}</dd>
              <dt>{t("企业数", "Enterprises")}</dt>
              <dd>{l.entry_count}</dd>
              <dt>{t("答复时限", "Answer within")}</dt>
              <dd>{t(`${l.respond_within_working_days} 个工作日`, `${l.respond_within_working_days} working days`)}</dd>
              <dt>{t("创建于", "Created")}</dt>
              <dd>{day(l.created_at)}</dd>
              <dt>{t("发布日", "Published")}</dt>
              <dd>{l.published_on ?? "—"}</dd>
              <dt>{t("答复截止", "Due")}</dt>
              <dd>{l.due_on ?? "—"}</dd>
            </dl>
            {l.status === "draft" && (
              <div class="actions">
                <Action
                  label={t("发布", "Publish")}
                  run={async () => {
                    await unwrap(api.POST("/api/v1/recommendation-lists/{id}/publish", { params: { path: { id } } }));
                    list.reload();
                  }}
                />
                <span class="muted">
                  {t(
                    `发布后每家银行对每家企业各得一项任务，须在 ${l.respond_within_working_days} 个工作日内答复；发布后不可撤回。`,
                    `Each bank then has a task per enterprise, to answer within ${l.respond_within_working_days} working days; publishing cannot be undone.`,
                  )}
                </span>
              </div>
            )}
            {l.banks && l.banks.length > 0 && (
              <>
                <h2>{t("各银行答复情况", "How each bank answered")}</h2>
                <Table
                  caption={t("按银行", "By bank")}
                  rows={l.banks}
                  columns={tallyColumns((b: Tally) => <BankName id={b.bank_id} names={banks} />)}
                />
              </>
            )}
            <h2>{t(`企业（${l.entry_count}）`, `Enterprises (${l.entry_count})`)}</h2>
            <LocalPaged
              size={20}
              rows={l.entries ?? []}
              columns={[
                { label: t("序号", "No."), cell: (e: Schemas["EntryView"]) => e.position, numeric: true },
                {
                  label: t("企业", "Enterprise"),
                  cell: (e) => (
                    <a href={`#/enterprises/${e.enterprise_id}`} title={e.uscc}>
                      {e.enterprise_name}
                    </a>
                  ),
                },
                { label: t("积分", "Score"), cell: (e) => e.score?.toFixed(2) ?? "—", numeric: true },
                { label: t("需求", "Need"), cell: (e) => <Need need={e} /> },
              ]}
            />
            {l.status === "published" && <ListTasks list={l} banks={banks} />}
          </>
        )}
      </Show>
    </section>
  );
}

/** A published list's tasks, page by page, by bank and status. */
function ListTasks({ list, banks }: { list: Schemas["RecommendationListView"]; banks?: Map<string, string> }) {
  const [bank, setBank] = useState("");
  const [status, setStatus] = useState("");
  return (
    <>
      <h2>{t("任务", "Tasks")}</h2>
      <div class="filters">
        <Field label={t("银行", "Bank")}>
          <select value={bank} onChange={(e) => setBank(e.currentTarget.value)}>
            <option value="">{t("全部", "All")}</option>
            {list.bank_ids.map((b) => (
              <option value={b}>{banks?.get(b) ?? `#${b}`}</option>
            ))}
          </select>
        </Field>
        <Field label={t("状态", "Status")}>
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t("全部", "All")}</option>
            <option value="overdue">{t("逾期未答", "Overdue")}</option>
            {(["open", "contacted", "credit_granted", "declined"] as const).map((s) => (
              <option value={s}>{word(s)}</option>
            ))}
          </select>
        </Field>
      </div>
      <Paged
        deps={[list.id, bank, status]}
        load={(cursor) =>
          unwrap(
            api.GET("/api/v1/recommendation-tasks", {
              params: {
                query: {
                  list_id: list.id,
                  limit: 50,
                  ...(bank ? { bank_id: bank } : {}),
                  ...(status === "overdue" ? { overdue: true } : status ? { status: status as Schemas["TaskStatus"] } : {}),
                  ...(cursor ? { cursor } : {}),
                },
              },
            }),
          )
        }
        columns={[
          { label: t("企业", "Enterprise"), cell: (task: Task) => <TaskFirm task={task} /> },
          { label: t("银行", "Bank"), cell: (task) => <BankName id={task.bank_id} names={banks} /> },
          { label: t("状态", "Status"), cell: (task) => <TaskState task={task} /> },
          { label: t("答复截止", "Due"), cell: (task) => <Due task={task} /> },
          { label: t("答复日", "Answered"), cell: (task) => task.answered_on ?? "—" },
          { label: t("用时（工作日）", "Took (working days)"), cell: (task) => task.response_working_days ?? "—", numeric: true },
          { label: t("银行的答复", "The bank's answer"), cell: (task) => <Answer task={task} /> },
        ]}
      />
    </>
  );
}

/** What the bank said: its reason, and the application or credit line of a grant. */
function Answer({ task }: { task: Task }) {
  const refs = [
    task.application_id ? t(`申请 #${task.application_id}`, `application #${task.application_id}`) : "",
    task.credit_line_id ? t(`授信 #${task.credit_line_id}`, `credit line #${task.credit_line_id}`) : "",
  ].filter(Boolean);
  if (!task.reason && refs.length === 0) return <span class="muted">—</span>;
  return (
    <span class="answer">
      {task.reason}
      {refs.length > 0 && <span class="muted"> ({refs.join(t("、", ", "))})</span>}
    </span>
  );
}

type TaskFilter = "open" | "overdue" | "contacted" | "all";

/** A bank's tasks: the enterprises recommended to it, their needs and deadlines, and its answers. */
export function BankTasks() {
  const [filter, setFilter] = useState<TaskFilter>("open");
  const [changed, setChanged] = useState(0);
  const [answering, setAnswering] = useState<Task>();
  const [answered, setAnswered] = useState<Task>();
  // The lists sent to this bank, for their names.
  const lists = useLoad(async () => {
    const page = await unwrap(api.GET("/api/v1/recommendation-lists", { params: { query: { limit: 500 } } }));
    return new Map(page.items.map((l) => [l.id, l.name]));
  }, []);
  return (
    <section>
      <h1>{t("推荐任务", "Recommended enterprises")}</h1>
      <p>
        {t(
          "园区推荐给本行的企业及其融资需求。请在答复截止日前答复：已对接；已授信（注明本行给该企业的授信或已批准的申请）；或婉拒并说明原因。答复对园区和企业可见。",
          "The enterprises parks recommended to this bank, with their needs. Answer each by its deadline: contacted; credit granted (naming this bank's credit line or approved application for it); or declined, with a reason. The park and the enterprise see the answer.",
        )}
      </p>
      <div class="filters">
        <Field label={t("显示", "Show")}>
          <select
            name="filter"
            value={filter}
            onChange={(e) => {
              setFilter(e.currentTarget.value as TaskFilter);
              setAnswering(undefined);
            }}
          >
            <option value="open">{t("待答复", "Open")}</option>
            <option value="overdue">{t("逾期未答", "Overdue")}</option>
            <option value="contacted">{t("已对接，待结果", "Contacted, awaiting an outcome")}</option>
            <option value="all">{t("全部", "All")}</option>
          </select>
        </Field>
      </div>
      {answered && (
        <p class="ok" role="status">
          {t("已答复：", "Answered: ")}
          {answered.enterprise_name} · {word(answered.status)}
        </p>
      )}
      <Paged
        deps={[filter, changed]}
        load={(cursor) =>
          unwrap(
            api.GET("/api/v1/recommendation-tasks", {
              params: {
                query: {
                  limit: 50,
                  ...(filter === "overdue" ? { overdue: true } : filter === "all" ? {} : { status: filter }),
                  ...(cursor ? { cursor } : {}),
                },
              },
            }),
          )
        }
        columns={[
          {
            label: t("企业", "Enterprise"),
            // The answer button beside the name: on a phone the table scrolls, and the name stays in view.
            cell: (task: Task) => (
              <span class="task-head">
                <TaskFirm task={task} />
                {(task.status === "open" || task.status === "contacted") && (
                  <button
                    type="button"
                    class="plain small"
                    aria-expanded={answering?.id === task.id}
                    onClick={() => setAnswering(answering?.id === task.id ? undefined : task)}
                  >
                    {t("答复", "Answer")}
                  </button>
                )}
              </span>
            ),
          },
          { label: t("答复截止", "Due"), cell: (task) => <Due task={task} /> },
          { label: t("状态", "Status"), cell: (task) => <TaskState task={task} /> },
          { label: t("需求", "Need"), cell: (task) => <Need need={task} /> },
          { label: t("推荐清单", "List"), cell: (task) => lists.data?.get(task.list_id) ?? `#${task.list_id}` },
          { label: t("推送日", "Published"), cell: (task) => task.published_on },
          ...(filter === "open" || filter === "overdue"
            ? []
            : [
                { label: t("答复日", "Answered"), cell: (task: Task) => task.answered_on ?? "—" },
                { label: t("本行的答复", "Our answer"), cell: (task: Task) => <Answer task={task} /> },
              ]),
        ]}
      />
      {answering && (
        <AnswerForm
          key={answering.id}
          task={answering}
          onAnswered={(task) => {
            setAnswering(undefined);
            setAnswered(task);
            setChanged((n) => n + 1);
          }}
        />
      )}
    </section>
  );
}

function AnswerForm({ task, onAnswered }: { task: Task; onAnswered: (task: Task) => void }) {
  const [status, setStatus] = useState<Schemas["TaskStatus"]>(task.status === "open" ? "contacted" : "credit_granted");
  const panel = useRef<HTMLDivElement>(null);
  // The form opens below a page of tasks: bring it into view.
  useEffect(() => panel.current?.scrollIntoView({ block: "nearest" }), []);
  return (
    <div class="panel" data-task={task.id} ref={panel}>
      <h2>
        {t("答复：", "Answer: ")}
        {task.enterprise_name}
      </h2>
      <dl class="facts">
        <dt>{t("需求", "Need")}</dt>
        <dd>
          <Need need={task} />
        </dd>
        <dt>{t("推送日", "Published")}</dt>
        <dd>{task.published_on}</dd>
        <dt>{t("答复截止", "Due")}</dt>
        <dd>
          <Due task={task} />
        </dd>
        <dt>{t("状态", "Status")}</dt>
        <dd>
          <TaskState task={task} />
        </dd>
      </dl>
      <Form
        submit={t("提交答复", "Send the answer")}
        action={async (form) => {
          const reason = text(form, "reason");
          const line = text(form, "credit_line_id");
          const application = text(form, "application_id");
          if (status === "credit_granted" && !line && !application) {
            throw new Error(t("请选择本行给该企业的授信，或填写已批准的申请编号。", "Choose this bank's credit line for it, or give an approved application's id."));
          }
          const result = await unwrap(
            api.POST("/api/v1/recommendation-tasks/{id}/answer", {
              params: { path: { id: task.id } },
              body: {
                status,
                ...(reason ? { reason } : {}),
                ...(status === "credit_granted" && line ? { credit_line_id: line } : {}),
                ...(status === "credit_granted" && !line && application ? { application_id: application } : {}),
              },
            }),
          );
          onAnswered(result);
        }}
      >
        <Field label={t("答复", "Answer")}>
          <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value as Schemas["TaskStatus"])}>
            {task.status === "open" && <option value="contacted">{t("已对接", "Contacted")}</option>}
            <option value="credit_granted">{t("已授信", "Credit granted")}</option>
            <option value="declined">{t("婉拒", "Declined")}</option>
          </select>
        </Field>
        {status === "credit_granted" && <CreditChoice enterprise={task.enterprise_id} />}
        <Field label={status === "declined" ? t("婉拒原因（企业可见）", "Why (the enterprise sees it)") : t("备注（可选，企业可见）", "A note (optional; the enterprise sees it)")}>
          <textarea name="reason" rows={2} maxLength={500} required={status === "declined"} />
        </Field>
      </Form>
    </div>
  );
}

/** This bank's credit lines for the enterprise, to name one; or an approved application's id. */
function CreditChoice({ enterprise }: { enterprise: string }) {
  const lines = useLoad(
    () => unwrap(api.GET("/api/v1/credit-lines", { params: { query: { enterprise_id: enterprise, limit: 100 } } })),
    [enterprise],
  );
  return (
    <>
      <Show loaded={lines}>
        {(page) => (
          <Field
            label={t("本行给该企业的授信", "This bank's credit line for it")}
            hint={page.items.length === 0 ? t("本行尚未给该企业授信；可填写已批准的申请编号。", "This bank has granted it no line; give an approved application instead.") : undefined}
          >
            <select name="credit_line_id">
              <option value="">{t("— 不选，填写申请编号 —", "— none: give an application —")}</option>
              {page.items.map((l, i) => (
                // The first line is chosen (`defaultValue` is not a property of a <select>).
                <option value={l.id} selected={i === 0}>
                  {t(
                    `授信 #${l.id} · ${day(l.granted_at)} · ${word(l.status)}`,
                    `credit line #${l.id} · ${day(l.granted_at)} · ${word(l.status)}`,
                  )}{" "}
                  · {money(l.amount)}
                </option>
              ))}
            </select>
          </Field>
        )}
      </Show>
      <Field label={t("或已批准的申请编号", "Or an approved application's id")}>
        <input name="application_id" inputMode="numeric" maxLength={20} />
      </Field>
    </>
  );
}

/** The banks an enterprise was recommended to, what each answered, and by when it must. */
export function EnterpriseRecommendations({ enterprise }: { enterprise?: string } = {}) {
  const banks = useBankNames();
  return (
    <>
      <h2>{t("推荐记录", "Recommendations")}</h2>
      <p class="muted">
        {enterprise
          ? t(
              "园区把该企业推荐给了以下银行；每家银行须在答复截止日前答复。",
              "The park recommended this enterprise to these banks; each is to answer by its deadline.",
            )
          : t(
              "园区把本企业推荐给了以下银行；每家银行须在答复截止日前答复。",
              "The park recommended this enterprise to these banks; each is to answer by its deadline.",
            )}
      </p>
      <Paged
        deps={[enterprise]}
        load={(cursor) =>
          unwrap(
            api.GET("/api/v1/recommendation-tasks", {
              params: { query: { limit: 50, ...(enterprise ? { enterprise_id: enterprise } : {}), ...(cursor ? { cursor } : {}) } },
            }),
          )
        }
        caption={t("推荐给的银行", "Recommended to")}
        columns={[
          { label: t("银行", "Bank"), cell: (task: Task) => <BankName id={task.bank_id} names={banks} /> },
          { label: t("需求", "Need"), cell: (task) => <Need need={task} /> },
          { label: t("推送日", "Published"), cell: (task) => task.published_on },
          { label: t("答复截止", "Due"), cell: (task) => <Due task={task} /> },
          { label: t("状态", "Status"), cell: (task) => <TaskState task={task} /> },
          { label: t("答复日", "Answered"), cell: (task) => task.answered_on ?? "—" },
          { label: t("银行的答复", "The bank's answer"), cell: (task) => <Answer task={task} /> },
        ]}
      />
    </>
  );
}
