// Score models (积分模型): a park's versions, each indicator's bands and weights per stage, a new
// version copied from the default model, activation, and the import of indicator values that the
// active model turns into scores. Also how a computed score was reached, indicator by indicator.
import { useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../api/client";
import { day, figure, share } from "../format";
import { groupName, modelStatus, t, word } from "../i18n";
import { Action, Field, Form, Show, Table, text, useLoad } from "../ui";

const STAGES: Schemas["Stage"][] = ["startup", "growth", "mature"];
const GROUPS: Schemas["IndicatorGroup"][] = ["technology", "growth", "auxiliary"];

/** A computed score, indicator by indicator: what was reported, the points, the weight. */
export function ScoreBreakdown({ score, modelHref }: { score: Schemas["ScoreView"]; modelHref?: (id: string) => string }) {
  const rows = score.breakdown;
  if (!rows) return null;
  const total = rows.reduce((sum, b) => sum + b.contribution, 0);
  const version = score.model?.version;
  const model = score.model && modelHref ? <a href={modelHref(score.model.id)}>{t(`模型第 ${version} 版`, `model version ${version}`)}</a> : null;
  return (
    <div class="breakdown" data-model-version={version}>
      <h3>
        {t("积分构成", "How the score is made")}
        {version !== undefined && <> · {model ?? t(`模型第 ${version} 版`, `model version ${version}`)}</>}
      </h3>
      <p class="muted">
        {t(
          `每项指标得 0–100 分，乘以${word(score.stage)}企业的权重后相加；合计 ${total.toFixed(2)}。将指针停在指标名称上可见其代码。`,
          `Each indicator earns 0 to 100 points, times its weight for ${word(score.stage)} enterprises, summed: ${total.toFixed(2)}. Hover an indicator's name for its code.`,
        )}
      </p>
      <Table
        caption={t(`积分构成（${score.period}）`, `Score breakdown (${score.period})`)}
        rows={rows}
        columns={[
          {
            label: t("指标", "Indicator"),
            cell: (b: Schemas["ContributionView"]) => (
              <span title={b.indicator} data-indicator={b.indicator}>
                {b.name}
              </span>
            ),
          },
          { label: t("分组", "Group"), cell: (b) => groupName(b.group) },
          {
            label: t("数值", "Value"),
            cell: (b) =>
              b.value === null ? (
                <span class="muted">{t("未填报", "not reported")}</span>
              ) : (
                <>
                  {figure(b.value)}
                  {b.unit && <span class="unit"> {b.unit}</span>}
                </>
              ),
            numeric: true,
          },
          { label: t("得分", "Points"), cell: (b) => figure(b.points), numeric: true },
          { label: t("权重", "Weight"), cell: (b) => share(b.weight), numeric: true },
          { label: t("贡献", "Contribution"), cell: (b) => b.contribution.toFixed(2), numeric: true },
        ]}
      />
    </div>
  );
}

/** The score model pages of one park, under `base` (such as `#/models`). */
export function ScoreModelPages({ park, base, route }: { park: string; base: string; route: string[] }) {
  if (route[0] === "default") return <DefaultModel base={base} />;
  if (route[0]) return <ModelDetail id={route[0]} base={base} />;
  return <ScoreModels park={park} base={base} />;
}

function ScoreModels({ park, base }: { park: string; base: string }) {
  const models = useLoad(() => unwrap(api.GET("/api/v1/parks/{id}/score-models", { params: { path: { id: park } } })), [park]);
  const parkInfo = useLoad(() => unwrap(api.GET("/api/v1/parks/{id}", { params: { path: { id: park } } })), [park]);
  const activate = (id: string) => async () => {
    await unwrap(api.POST("/api/v1/score-models/{id}/activate", { params: { path: { id } } }));
    models.reload();
  };
  return (
    <section>
      <h1>{t("积分模型", "Score models")}</h1>
      <p>
        {t(
          "积分模型把企业的指标数据算成创新积分：每项指标按分档（或在园区同阶段企业中按最小–最大标准化）得 0–100 分，乘以企业所处阶段的权重后相加。园区同一时间只启用一个模型；模型一旦用于计分便不再改动，调整须建新版本。",
          "A score model turns an enterprise's indicator values into its innovation score: each indicator earns 0 to 100 points by its bands (or min–max among the park's enterprises of the stage), times the weight for the enterprise's stage, summed. A park uses one active model at a time; once a model has scored it never changes, and a change is a new version.",
        )}
      </p>
      <Show loaded={models}>
        {(m) => {
          const active = m.items.find((v) => v.status === "active");
          return (
            <>
              {m.items.length === 0 ? (
                <p class="notice" data-state="no-model">
                  {t(
                    "本园区尚无积分模型：积分只能在“积分导入”页整批导入。以默认模型创建一个版本并启用后，即可导入指标数据，由模型计算积分。",
                    "This park has no score model yet: its scores can only be imported whole on the score import page. Create a version from the default model and activate it, then import indicator values for the model to score.",
                  )}
                </p>
              ) : (
                <Table
                  caption={t("本园区的模型版本", "The park's model versions")}
                  rows={m.items}
                  columns={[
                    {
                      label: t("版本", "Version"),
                      cell: (v: Schemas["ScoreModelView"]) => <a href={`${base}/${v.id}`}>{t(`第 ${v.version} 版`, `version ${v.version}`)}</a>,
                    },
                    { label: t("名称", "Name"), cell: (v) => v.name },
                    { label: t("状态", "Status"), cell: (v) => <span data-status={v.status}>{modelStatus(v.status)}</span> },
                    {
                      label: t("已用于计分", "Has scored"),
                      cell: (v) => (v.in_use ? t(`是（${day(v.used_at)} 起）`, `yes (since ${day(v.used_at)})`) : t("否", "no")),
                    },
                    { label: t("指标数", "Indicators"), cell: (v) => v.indicators.length, numeric: true },
                    { label: t("创建于", "Created"), cell: (v) => day(v.created_at) },
                    { label: t("启用于", "Activated"), cell: (v) => day(v.activated_at) },
                    {
                      label: t("操作", "Action"),
                      cell: (v) => (v.status === "active" ? "—" : <Action label={t("启用", "Activate")} run={activate(v.id)} />),
                    },
                  ]}
                />
              )}
              {m.items.length > 0 && !active && (
                <p class="warn">
                  {t("尚未启用任何模型：启用一个版本后才能导入指标数据。", "No model is active: activate a version before importing indicator values.")}
                </p>
              )}
              <h2>{t("以默认模型新建版本", "New version from the default model")}</h2>
              <p class="muted">
                {t("默认模型为《指引》1.0 的 18 项指标及其分档与各阶段权重。", "The default model is the Guidelines' 18 indicators (1.0) with their bands and stage weights. ")}
                <a href={`${base}/default`}>{t("查看默认模型", "See the default model")}</a>
              </p>
              <Form
                submit={t("以默认模型创建", "Create from the default model")}
                action={async (form, key) => {
                  const created = await unwrap(
                    api.POST("/api/v1/parks/{id}/score-models", {
                      params: { path: { id: park }, header: { "Idempotency-Key": key } },
                      body: { name: text(form, "name") },
                    }),
                  );
                  location.hash = `${base}/${created.id}`;
                }}
              >
                <Field label={t("名称", "Name")}>
                  <input
                    name="name"
                    required
                    maxLength={128}
                    defaultValue={parkInfo.data ? `创新积分指引 1.0（${parkInfo.data.name}）` : ""}
                    key={parkInfo.data?.name}
                  />
                </Field>
              </Form>
              <h2>{t("导入指标数据", "Import indicator values")}</h2>
              {active ? (
                <IndicatorImport park={park} model={active} />
              ) : (
                <p class="muted">
                  {t("园区启用积分模型后，可在此导入指标数据。", "Once the park has an active score model, its indicator values are imported here.")}
                </p>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}

/** A period's indicator values, as CSV from a file or pasted; every bad row's errors listed. */
function IndicatorImport({ park, model }: { park: string; model: Schemas["ScoreModelView"] }) {
  const [result, setResult] = useState<Schemas["ScoredResult"]>();
  const header = ["uscc", "stage", ...model.indicators.map((i) => i.code)].join(",");
  const optional = model.indicators.filter((i) => i.required === false).map((i) => i.code);
  return (
    <>
      <p>
        {t(
          `由启用中的模型（第 ${model.version} 版）计算积分，并在园区及各阶段内排名；同一期间再次导入会替换原有积分。整批导入：任一行有误则全部不导入，并列出每一行的错误。表头：`,
          `The active model (version ${model.version}) computes the scores and ranks them in the park and in each stage; importing a period again replaces its scores. All or nothing: one bad row and nothing is stored, and every bad row's errors are listed. The header:`,
        )}
      </p>
      <p class="code-line">
        <code>{header}</code>
      </p>
      <p class="muted">
        {t(
          `stage 为 startup（初创期）、growth（成长期）或 mature（稳定期）。${optional.length ? `选填指标可留空：${optional.join("、")}。` : ""}`,
          `stage is startup, growth or mature. ${optional.length ? `Optional indicators may be left empty: ${optional.join(", ")}.` : ""}`,
        )}
      </p>
      <Form
        submit={t("导入并计算", "Import and score")}
        action={async (form, key) => {
          setResult(undefined);
          const file = form.get("file");
          const pasted = text(form, "csv");
          const csv = file instanceof File && file.size > 0 ? await file.text() : pasted;
          if (!csv.trim()) throw new Error(t("请选择 CSV 文件，或粘贴 CSV 内容。", "Choose a CSV file, or paste the CSV."));
          const scored = await unwrap(
            api.POST("/api/v1/parks/{id}/indicator-values", {
              params: { path: { id: park }, query: { period: text(form, "period") }, header: { "Idempotency-Key": key } },
              body: csv as never,
              bodySerializer: (body: unknown) => body as string,
              headers: { "Content-Type": "text/csv" },
            }),
          );
          setResult(scored);
        }}
      >
        <Field label={t("期间", "Period")} hint={t("如 2024、2024-H1", "such as 2024 or 2024-H1")}>
          <input name="period" required minLength={4} maxLength={16} placeholder="2024" />
        </Field>
        <Field label={t("CSV 文件", "CSV file")} hint={t("选择了文件时以文件为准", "a chosen file is used before pasted text")}>
          <input name="file" type="file" accept=".csv,text/csv" />
        </Field>
        <Field label={t("或粘贴 CSV", "Or paste the CSV")}>
          <textarea name="csv" rows={6} spellcheck={false} placeholder={header} />
        </Field>
      </Form>
      {result && (
        <p class="ok" role="status">
          {t(
            `已按模型第 ${result.model_version} 版计算 ${result.scored} 家企业的 ${result.period} 积分；园区该期共 ${result.ranked} 家参与排名。`,
            `Scored ${result.scored} enterprises for ${result.period} with model version ${result.model_version}; ${result.ranked} are ranked in the park for that period.`,
          )}
        </p>
      )}
    </>
  );
}

function ModelDetail({ id, base }: { id: string; base: string }) {
  const model = useLoad(() => unwrap(api.GET("/api/v1/score-models/{id}", { params: { path: { id } } })), [id]);
  return (
    <section>
      <p>
        <a href={base}>{t("← 全部版本", "← All versions")}</a>
      </p>
      <Show loaded={model}>
        {(m) => (
          <>
            <h1>
              {t(`积分模型第 ${m.version} 版`, `Score model, version ${m.version}`)} <span class="tag">{modelStatus(m.status)}</span>
            </h1>
            <dl class="facts">
              <dt>{t("名称", "Name")}</dt>
              <dd>{m.name}</dd>
              <dt>{t("计分方法", "Method")}</dt>
              <dd>{m.method === "weighted_sum" ? t("加权求和", "weighted sum") : m.method}</dd>
              <dt>{t("创建于", "Created")}</dt>
              <dd>{day(m.created_at)}</dd>
              <dt>{t("启用于", "Activated")}</dt>
              <dd>{day(m.activated_at)}</dd>
              <dt>{t("已用于计分", "Has scored")}</dt>
              <dd>
                {m.in_use
                  ? t(`是，${day(m.used_at)} 起；不可再改动`, `yes, since ${day(m.used_at)}; it can no longer change`)
                  : t("否，仍可改名", "no; it can still be renamed")}
              </dd>
            </dl>
            {m.status !== "active" && (
              <div class="actions">
                <Action
                  label={t("启用此版本", "Activate this version")}
                  run={async () => {
                    await unwrap(api.POST("/api/v1/score-models/{id}/activate", { params: { path: { id } } }));
                    model.reload();
                  }}
                />
                <span class="muted">{t("原启用的版本将停用。", "The version active before becomes inactive.")}</span>
              </div>
            )}
            {!m.in_use && (
              <>
                <h2>{t("改名", "Rename")}</h2>
                <Form
                  submit={t("保存", "Save")}
                  done={t("已保存。", "Saved.")}
                  action={async (form) => {
                    await unwrap(api.PATCH("/api/v1/score-models/{id}", { params: { path: { id } }, body: { name: text(form, "name") } }));
                    model.reload();
                  }}
                >
                  <Field label={t("名称", "Name")}>
                    <input name="name" required maxLength={128} defaultValue={m.name} />
                  </Field>
                </Form>
              </>
            )}
            <ModelSpec indicators={m.indicators} weights={m.stage_weights} />
          </>
        )}
      </Show>
    </section>
  );
}

function DefaultModel({ base }: { base: string }) {
  const model = useLoad(() => unwrap(api.GET("/api/v1/default-score-model")), []);
  return (
    <section>
      <p>
        <a href={base}>{t("← 本园区的模型", "← The park's models")}</a>
      </p>
      <Show loaded={model}>
        {(m) => (
          <>
            <h1>{t("默认积分模型", "The default score model")}</h1>
            <p>{m.name}</p>
            <ModelSpec indicators={m.indicators} weights={m.stage_weights} />
          </>
        )}
      </Show>
    </section>
  );
}

function scoring(spec: Schemas["ScoringSpec"], unit: string): string {
  if (spec.bands) {
    return spec.bands.map((b) => t(`≥${figure(b.min)}${unit}：${figure(b.points)} 分`, `≥${figure(b.min)}${unit}: ${figure(b.points)}`)).join(" · ");
  }
  return t("园区同阶段企业中最小–最大标准化", "min–max among the park's enterprises of the stage");
}

/** A model's indicators with their bands, and the weights of each group and indicator per stage. */
function ModelSpec({ indicators, weights }: { indicators: Schemas["IndicatorSpec"][]; weights: Schemas["StageWeights"] }) {
  const weight = (stage: Schemas["Stage"], code: string) => weights[stage][code] ?? 0;
  return (
    <>
      <h2>{t("各组权重", "Weights by group")}</h2>
      <Table
        caption={t("各阶段中各组指标的权重合计", "Each group's share of the score, by stage")}
        rows={GROUPS}
        columns={[
          { label: t("分组", "Group"), cell: (g: Schemas["IndicatorGroup"]) => groupName(g) },
          ...STAGES.map((stage) => ({
            label: word(stage),
            cell: (g: Schemas["IndicatorGroup"]) =>
              share(indicators.filter((i) => i.group === g).reduce((sum, i) => sum + weight(stage, i.code), 0)),
            numeric: true,
          })),
        ]}
      />
      <h2>{t(`指标（${indicators.length}）`, `Indicators (${indicators.length})`)}</h2>
      <Table
        caption={t("指标、计分分档与各阶段权重", "Indicators, their bands and weights by stage")}
        rows={indicators}
        columns={[
          {
            label: t("指标", "Indicator"),
            cell: (i: Schemas["IndicatorSpec"]) => (
              <>
                {i.name}
                <br />
                <code class="muted">{i.code}</code>
              </>
            ),
          },
          { label: t("分组", "Group"), cell: (i) => groupName(i.group) },
          { label: t("单位", "Unit"), cell: (i) => i.unit || "—" },
          {
            label: t("方向", "Direction"),
            cell: (i) => (i.direction === "lower_better" ? t("越低越好", "lower is better") : t("越高越好", "higher is better")),
          },
          { label: t("必填", "Required"), cell: (i) => (i.required === false ? t("选填", "optional") : t("必填", "required")) },
          { label: t("计分", "Scoring"), cell: (i) => <span class="bands">{scoring(i.scoring, i.unit ?? "")}</span> },
          ...STAGES.map((stage) => ({
            label: t(`${word(stage)}权重`, `${word(stage)} weight`),
            cell: (i: Schemas["IndicatorSpec"]) => share(weight(stage, i.code)),
            numeric: true,
          })),
        ]}
      />
    </>
  );
}
