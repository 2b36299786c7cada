// The admin's pages: national statistics, parks (each with its enterprises, their scores, and its
// score models), banks, and API keys (create and revoke).
import { useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../api/client";
import { day } from "../format";
import { roleName, t } from "../i18n";
import { Action, type Column, Field, Form, Paged, Show, Table, text, useLoad } from "../ui";
import { EnterpriseDetail, Enterprises, StatsFigures } from "./park";
import { RiskPoolShares } from "./risk";
import { PolicyMoney, SubsidyProgramShares } from "./subsidy";
import { ScoreModelPages } from "./scores";

export function AdminPages({ route }: { route: string[] }) {
  switch (route[0]) {
    case "parks":
      if (route[1] && route[2] === "models") {
        return <ScoreModelPages park={route[1]} base={`#/parks/${route[1]}/models`} route={route.slice(3)} />;
      }
      if (route[1] && route[2] === "enterprises" && route[3]) {
        return <EnterpriseDetail id={route[3]} modelHref={(model) => `#/parks/${route[1]}/models/${model}`} />;
      }
      return route[1] ? <Park id={route[1]} /> : <Parks />;
    case "banks":
      return <Banks />;
    case "keys":
      return <Keys />;
    default:
      return <National />;
  }
}

function National() {
  const stats = useLoad(
    () => unwrap(api.GET("/api/v1/stats", { headers: { Accept: "application/json" } })) as Promise<Schemas["NationalStats"]>,
    [],
  );
  return (
    <section>
      <h1>{t("全国统计", "National statistics")}</h1>
      <Show loaded={stats}>
        {(s) => (
          <>
            <StatsFigures stats={s} />
            <Table
              caption={t("按园区", "By park")}
              rows={s.parks}
              columns={[
                { label: t("园区", "Park"), cell: (p: Schemas["ParkRow"]) => p.park_name },
                { label: t("参评企业", "Scored"), cell: (p) => p.enterprises_scored, numeric: true },
                { label: t("授信笔数", "Lines"), cell: (p) => p.credit_lines, numeric: true },
                { label: t("不良率", "NPL ratio"), cell: (p) => `${(p.npl_ratio * 100).toFixed(2)}%`, numeric: true },
              ]}
            />
            <PolicyMoney totals={s.policy_money} />
            <RiskPoolShares pools={s.risk_pools} />
            <SubsidyProgramShares programs={s.subsidy_programs} />
          </>
        )}
      </Show>
    </section>
  );
}

/** A list of records with a form that adds one: parks and banks. */
function Registry<T>({
  title,
  adding,
  load,
  columns,
  fields,
  create,
}: {
  title: string;
  adding: string;
  load: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>;
  columns: Column<T>[];
  /** The form's fields: name and label; each is required. */
  fields: [string, string][];
  create: (values: Record<string, string>, idempotencyKey: string) => Promise<unknown>;
}) {
  const [version, setVersion] = useState(0);
  return (
    <section>
      <h1>{title}</h1>
      <Paged deps={[version]} load={load} columns={columns} />
      <h2>{adding}</h2>
      <Form
        submit={t("新增", "Add")}
        done={t("已新增。", "Added.")}
        action={async (form, key) => {
          await create(Object.fromEntries(fields.map(([name]) => [name, text(form, name)])), key);
          setVersion((v) => v + 1);
        }}
      >
        {fields.map(([name, label]) => (
          <Field label={label}>
            <input name={name} required />
          </Field>
        ))}
      </Form>
    </section>
  );
}

const page = (cursor: string | undefined) => ({ query: { limit: 50, ...(cursor ? { cursor } : {}) } });

function Parks() {
  return (
    <Registry
      title={t("园区", "Parks")}
      adding={t("新增园区", "Add a park")}
      load={(cursor) => unwrap(api.GET("/api/v1/parks", { params: page(cursor) }))}
      columns={[
        { label: t("编号", "Id"), cell: (p: Schemas["Park"]) => p.id },
        { label: t("代码", "Code"), cell: (p) => <code>{p.code}</code> },
        { label: t("名称", "Name"), cell: (p) => <a href={`#/parks/${p.id}`}>{p.name}</a> },
        { label: t("地区", "Region"), cell: (p) => p.region },
      ]}
      fields={[
        ["code", t("代码", "Code")],
        ["name", t("名称", "Name")],
        ["region", t("地区", "Region")],
      ]}
      create={(v, key) =>
        unwrap(
          api.POST("/api/v1/parks", {
            params: { header: { "Idempotency-Key": key } },
            body: { code: v.code, name: v.name, region: v.region },
          }),
        )
      }
    />
  );
}

/** One park: its score models, and its enterprises, each with its score. */
function Park({ id }: { id: string }) {
  const park = useLoad(() => unwrap(api.GET("/api/v1/parks/{id}", { params: { path: { id } } })), [id]);
  return (
    <>
      <p>
        <a href="#/parks">{t("← 全部园区", "← All parks")}</a>
        {" · "}
        <a href={`#/parks/${id}/models`}>{t("积分模型", "Score models")}</a>
      </p>
      <Show loaded={park}>
        {(p) => <Enterprises park={id} title={t(`${p.name} · 企业`, `${p.name} · enterprises`)} href={(e) => `#/parks/${id}/enterprises/${e}`} />}
      </Show>
    </>
  );
}

function Banks() {
  return (
    <Registry
      title={t("银行", "Banks")}
      adding={t("新增银行", "Add a bank")}
      load={(cursor) => unwrap(api.GET("/api/v1/banks", { params: page(cursor) }))}
      columns={[
        { label: t("编号", "Id"), cell: (b: Schemas["Bank"]) => b.id },
        { label: t("代码", "Code"), cell: (b) => <code>{b.code}</code> },
        { label: t("名称", "Name"), cell: (b) => b.name },
      ]}
      fields={[
        ["code", t("代码", "Code")],
        ["name", t("名称", "Name")],
      ]}
      create={(v, key) =>
        unwrap(api.POST("/api/v1/banks", { params: { header: { "Idempotency-Key": key } }, body: { code: v.code, name: v.name } }))
      }
    />
  );
}

function Keys() {
  const [version, setVersion] = useState(0);
  const [secret, setSecret] = useState<string | null>();
  return (
    <section>
      <h1>{t("API 密钥", "API keys")}</h1>
      <Paged
        deps={[version]}
        load={(cursor) => unwrap(api.GET("/api/v1/api-keys", { params: page(cursor) }))}
        columns={[
          { label: t("编号", "Id"), cell: (k: Schemas["ApiKey"]) => k.id },
          { label: t("名称", "Name"), cell: (k) => k.name },
          { label: t("角色", "Role"), cell: (k) => roleName(k.role) },
          { label: t("范围", "Scope"), cell: (k) => k.park_id ?? k.bank_id ?? k.enterprise_id ?? "—" },
          { label: t("创建于", "Created"), cell: (k) => day(k.created_at) },
          {
            label: t("状态", "State"),
            cell: (k) =>
              k.revoked_at ? (
                t(`已吊销 ${day(k.revoked_at)}`, `revoked ${day(k.revoked_at)}`)
              ) : (
                <Action
                  danger
                  label={t("吊销", "Revoke")}
                  run={async () => {
                    await unwrap(api.DELETE("/api/v1/api-keys/{id}", { params: { path: { id: k.id } } }));
                    setVersion((v) => v + 1);
                  }}
                />
              ),
          },
        ]}
      />
      <h2>{t("新建密钥", "Create a key")}</h2>
      <Form
        submit={t("创建", "Create")}
        action={async (form, key) => {
          const role = text(form, "role") as Schemas["Role"];
          const scope = text(form, "scope");
          const field = { park_office: "park_id", bank: "bank_id", enterprise: "enterprise_id", admin: "" }[role];
          const created = await unwrap(
            api.POST("/api/v1/api-keys", {
              params: { header: { "Idempotency-Key": key } },
              body: { name: text(form, "name"), role, ...(field && scope ? { [field]: scope } : {}) },
            }),
          );
          // A replayed creation (the same request sent again) answers without the secret, which
          // is stored nowhere: that key must be revoked and another made.
          setSecret(created.secret ?? null);
          setVersion((v) => v + 1);
        }}
      >
        <Field label={t("名称", "Name")}>
          <input name="name" required />
        </Field>
        <Field label={t("角色", "Role")}>
          <select name="role">
            {(["park_office", "bank", "enterprise", "admin"] as const).map((r) => (
              <option value={r}>{roleName(r)}</option>
            ))}
          </select>
        </Field>
        <Field label={t("园区、银行或企业的编号", "The park's, bank's or enterprise's id")}>
          <input name="scope" />
        </Field>
      </Form>
      {secret === null && (
        <p class="error" role="alert">
          {t(
            "该密钥已创建过，密钥原文无法再次显示：请吊销它并重新创建。",
            "This key was created before, and its secret cannot be shown again: revoke it and create another.",
          )}
        </p>
      )}
      {secret && (
        <p class="ok" role="status">
          {t("新密钥（仅显示这一次）：", "The new key (shown this once only): ")}
          <code>{secret}</code>
        </p>
      )}
    </section>
  );
}
