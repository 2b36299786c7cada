// An enterprise's pages: its score and rank, the banks it was recommended to, its matches with
// every failed rule in words, an application form, its applications, lines and loans, and the
// policies it qualifies for (subsidy.tsx).
import { api, unwrap, type Schemas } from "../api/client";
import { bps, toFen } from "../format";
import { t, word } from "../i18n";
import type { Me } from "../main";
import { useBankNames } from "../names";
import { Field, Form, Money, Show, text, useLoad } from "../ui";
import { LoansOf } from "./bank";
import { ApplicationsOf, LinesOf, ScorePanel } from "./park";
import { EnterpriseRecommendations } from "./recommendations";
import { EnterprisePolicies } from "./subsidy";

export function EnterprisePages({ me, route }: { me: Me; route: string[] }) {
  const id = me.enterprise_id ?? "";
  switch (route[0]) {
    case "apply":
      return <Apply enterprise={id} product={route[1] ?? ""} />;
    case "policies":
      return <EnterprisePolicies enterprise={id} />;
    case "mine":
      return <Mine enterprise={id} />;
    default:
      return <Home enterprise={id} name={me.scope_name ?? ""} />;
  }
}

function Home({ enterprise, name }: { enterprise: string; name: string }) {
  const banks = useBankNames();
  const matches = useLoad(() => unwrap(api.GET("/api/v1/enterprises/{id}/matches", { params: { path: { id: enterprise } } })), [enterprise]);
  return (
    <section>
      <h1>{name}</h1>
      <ScorePanel id={enterprise} />
      <EnterpriseRecommendations />
      <Show loaded={matches}>
        {(m) => (
          <>
            <h2>{t(`可申请的产品（${m.eligible.length}）`, `Products it qualifies for (${m.eligible.length})`)}</h2>
            <ul class="products">
              {m.eligible.map((e) => (
                <li class="product eligible">
                  <ProductLine product={e.product} bank={banks?.get(e.product.bank_id)} />
                  <span>
                    {t("最高可贷", "up to")} <Money fen={e.offer_max_amount} />
                  </span>
                  <a class="button" href={`#/apply/${e.product.id}`}>
                    {t("申请", "Apply")}
                  </a>
                </li>
              ))}
            </ul>
            <h2>{t(`暂不符合的产品（${m.ineligible.length}）`, `Products it does not qualify for (${m.ineligible.length})`)}</h2>
            <ul class="products">
              {m.ineligible.map((i) => (
                <li class="product ineligible" data-product={i.product.name}>
                  <ProductLine product={i.product} bank={banks?.get(i.product.bank_id)} />
                  <Reasons failed={i.failed} />
                </li>
              ))}
            </ul>
          </>
        )}
      </Show>
    </section>
  );
}

function stageWords(list: string | undefined): string {
  return (list ?? "").split(", ").map(word).join("、");
}

/** A failed rule in words: the service's sentence in English, and ours in Chinese. */
/** Every rule failed, one line each in words: for products and policies alike. */
export function Reasons({ failed }: { failed: Schemas["ErrorDetail"][] }) {
  return (
    <ul class="reasons">
      {failed.map((f) => (
        <li data-rule={f.rule}>{reason(f)}</li>
      ))}
    </ul>
  );
}

export function reason(f: Schemas["ErrorDetail"]): string {
  const none = f.actual === undefined || f.actual === "";
  const zh: Record<string, string> = {
    min_score: none ? `尚无创新积分；最低要求 ${f.required}` : `积分 ${f.actual} 低于最低要求 ${f.required}`,
    max_park_rank: none ? `尚无园区排名；要求前 ${f.required} 名` : `园区排名 ${f.actual} 在要求的前 ${f.required} 名之外`,
    min_percentile: none ? `尚无积分；最低百分位 ${f.required}` : `百分位 ${f.actual} 低于要求的 ${f.required}`,
    park_ids: `所在园区不在产品限定的园区内`,
    industries: `行业 ${f.actual} 不在 ${f.required} 之列`,
    sizes: `企业规模 ${f.actual} 不在 ${f.required} 之列`,
    required_qualifications: `缺少资质：${f.required}`,
    min_years_established: `成立 ${f.actual} 年，少于要求的 ${f.required} 年`,
    quota_exhausted: `产品额度已用完`,
    stages: none
      ? `尚无积分，无法确定阶段；要求 ${stageWords(f.required)}`
      : `企业阶段为${word(f.actual)}，不在 ${stageWords(f.required)} 之列`,
    min_stage_percentile: none
      ? `尚无积分；同阶段最低百分位 ${f.required}`
      : `同阶段百分位 ${f.actual} 低于要求的 ${f.required}`,
  };
  return t(zh[f.rule ?? ""] ?? f.message, f.message);
}

function ProductLine({ product: p, bank }: { product: Schemas["ProductSummary"]; bank?: string }) {
  return (
    <span class="product-line">
      <strong>{p.name}</strong> · {bank ?? `#${p.bank_id}`} · {word(p.credit_type)} · {bps(p.rate_bps_min)}–{bps(p.rate_bps_max)} ·{" "}
      {t(`${p.term_months_min}–${p.term_months_max} 个月`, `${p.term_months_min}–${p.term_months_max} months`)}
    </span>
  );
}

function Apply({ enterprise, product }: { enterprise: string; product: string }) {
  const found = useLoad(() => unwrap(api.GET("/api/v1/products/{id}", { params: { path: { id: product } } })), [product]);
  return (
    <section>
      <Show loaded={found}>
        {(p) => (
          <>
            <h1>{t(`申请：${p.name}`, `Apply: ${p.name}`)}</h1>
            <Form
              submit={t("提交申请", "Submit the application")}
              done={t("已提交，银行将在时限内答复。", "Submitted; the bank answers within its SLA.")}
              action={async (form, key) => {
                const amount = toFen(text(form, "amount"));
                if (amount === null) throw new Error(t("请输入金额（元）", "Enter an amount in yuan"));
                await unwrap(
                  api.POST("/api/v1/applications", {
                    params: { header: { "Idempotency-Key": key } },
                    body: {
                      product_id: product,
                      enterprise_id: enterprise,
                      amount,
                      term_months: Number(text(form, "term_months")),
                      purpose: text(form, "purpose"),
                    },
                  }),
                );
              }}
            >
              <Field label={t("金额（元）", "Amount (yuan)")} hint={`${p.min_amount / 100} – ${p.max_amount / 100}`}>
                <input name="amount" inputMode="decimal" required />
              </Field>
              <Field label={t("期限（月）", "Term (months)")} hint={`${p.term_months_min} – ${p.term_months_max}`}>
                <input name="term_months" inputMode="numeric" required defaultValue={String(Math.min(12, p.term_months_max))} />
              </Field>
              <Field label={t("用途", "Purpose")}>
                <input name="purpose" required maxLength={500} placeholder={t("研发投入", "R&D")} />
              </Field>
            </Form>
          </>
        )}
      </Show>
    </section>
  );
}

function Mine({ enterprise }: { enterprise: string }) {
  return (
    <section>
      <h1>{t("我的申请与贷款", "My applications and loans")}</h1>
      <h2>{t("申请", "Applications")}</h2>
      <ApplicationsOf enterprise={enterprise} />
      <h2>{t("授信", "Credit lines")}</h2>
      <LinesOf enterprise={enterprise} />
      <h2>{t("借据", "Loans")}</h2>
      <LoansOf />
    </section>
  );
}
