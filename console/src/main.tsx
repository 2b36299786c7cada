// The console: sign in with an API key, then the pages of the key's role. Every figure comes from
// the public API (/api/v1), as any client would read it.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiFailure, storeKey, storedKey, unwrap, type Schemas } from "./api/client";
import { lang, roleName, setLang, t } from "./i18n";
import { forgetNames } from "./names";
import { ErrorBox } from "./ui";
import { AdminPages } from "./pages/admin";
import { BankPages } from "./pages/bank";
import { EnterprisePages } from "./pages/enterprise";
import { ParkPages } from "./pages/park";
import "./style.css";

export type Me = Schemas["CurrentApiKey"];

/** The page the hash names: `#/lines/12` is ["lines", "12"]. */
export function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin">
      <h1>{t("创新积分贷 · 控制台", "Innovation-points credit · console")}</h1>
      <p>{t("请用 API 密钥登录。密钥只保存在本标签页中，关闭即清除。", "Sign in with an API key. It is kept in this tab only, and gone when the tab closes.")}</p>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const key = String(new FormData(event.currentTarget).get("key") ?? "").trim();
          setBusy(true);
          setError(undefined);
          storeKey(key);
          try {
            onSignedIn(await unwrap(api.GET("/api/v1/me")));
          } catch (e) {
            storeKey(null);
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label class="field">
          <span>{t("API 密钥", "API key")}</span>
          <input name="key" type="password" autocomplete="off" required placeholder="ilk_…" />
        </label>
        <button type="submit" disabled={busy}>
          {t("登录", "Sign in")}
        </button>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}

function Shell({ me, onSignOut, onLang }: { me: Me; onSignOut: () => void; onLang: () => void }) {
  const route = useRoute();
  const links: [string, string][] = {
    park_office: [
      ["", t("总览", "Dashboard")],
      ["ranking", t("百强榜", "Ranking")],
      ["import", t("积分导入", "Score import")],
      ["models", t("积分模型", "Score models")],
      ["lists", t("推荐清单", "Recommendation lists")],
      ["pools", t("风险补偿资金池", "Risk pools")],
      ["subsidies", t("贴息项目", "Subsidy programmes")],
      ["enterprises", t("园区企业", "Enterprises")],
    ],
    bank: [
      ["", t("申请队列", "Applications")],
      ["tasks", t("推荐任务", "Recommended enterprises")],
      ["lines", t("授信与放款", "Credit lines")],
      ["claims", t("风险补偿申请", "Risk claims")],
      ["products", t("产品", "Products")],
    ],
    enterprise: [
      ["", t("积分与匹配", "Score and matches")],
      ["policies", t("政策匹配", "Policies")],
      ["mine", t("我的申请与贷款", "My applications and loans")],
    ],
    admin: [
      ["", t("全国统计", "National statistics")],
      ["parks", t("园区", "Parks")],
      ["banks", t("银行", "Banks")],
      ["keys", t("API 密钥", "API keys")],
    ],
  }[me.role] as [string, string][];
  const page = {
    park_office: () => <ParkPages me={me} route={route} />,
    bank: () => <BankPages me={me} route={route} />,
    enterprise: () => <EnterprisePages me={me} route={route} />,
    admin: () => <AdminPages route={route} />,
  }[me.role];
  return (
    <>
      <header>
        <span class="brand">{t("创新积分贷", "innoloan")}</span>
        <nav aria-label={t("页面", "Pages")}>
          {links.map(([path, label]) => (
            <a href={`#/${path}`} aria-current={(route[0] ?? "") === path ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" data-role={me.role}>
          {roleName(me.role)}
          {me.scope_name ? ` · ${me.scope_name}` : ""}
          <small class="muted"> ({me.name})</small>
        </span>
        <button type="button" class="plain" onClick={onLang}>
          {lang() === "zh" ? "English" : "中文"}
        </button>
        <button type="button" class="plain" onClick={onSignOut}>
          {t("退出", "Sign out")}
        </button>
      </header>
      <main>{page()}</main>
    </>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(Boolean(storedKey()));
  const [, setLangTick] = useState(0);
  useEffect(() => {
    setLang(lang());
    if (!storedKey()) return;
    // Only a refused key is forgotten; an outage keeps it for the next try.
    unwrap(api.GET("/api/v1/me"))
      .then(setMe, (e) => e instanceof ApiFailure && e.status === 401 && storeKey(null))
      .finally(() => setChecking(false));
  }, []);
  if (checking) return <p class="muted">{t("加载中…", "Loading…")}</p>;
  if (!me) return <SignIn onSignedIn={setMe} />;
  return (
    <Shell
      me={me}
      onSignOut={() => {
        storeKey(null);
        forgetNames();
        setMe(null);
        location.hash = "";
      }}
      onLang={() => {
        setLang(lang() === "zh" ? "en" : "zh");
        setLangTick((n) => n + 1);
      }}
    />
  );
}

render(<App />, document.getElementById("app")!);
