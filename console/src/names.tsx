// Names for the ids that records carry: banks (every key may list them) and enterprises (each read
// once, as far as the key may see it).
import { useEffect, useState } from "preact/hooks";
import { api, ApiFailure, unwrap } from "./api/client";
import { t } from "./i18n";
import { useLoad } from "./ui";

/** Every bank, in the registry's order, read page by page. */
export function useBanks() {
  return useLoad(async () => {
    const banks = [];
    let cursor: string | undefined;
    do {
      const page = await unwrap(api.GET("/api/v1/banks", { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } } }));
      banks.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return banks;
  }, []);
}

/** Every bank's name by id. */
export function useBankNames(): Map<string, string> | undefined {
  const banks = useBanks();
  return banks.data && new Map(banks.data.map((b) => [b.id, b.name]));
}

export function BankName({ id, names }: { id: string; names?: Map<string, string> }) {
  return <>{names?.get(id) ?? t(`银行 #${id}`, `bank #${id}`)}</>;
}

// One read per enterprise for the whole session: a page of 50 tasks names few distinct firms.
const enterprises = new Map<string, Promise<string | null>>();

/** Forgets the names read with the key that signed out. */
export function forgetNames() {
  enterprises.clear();
}

function enterpriseName(id: string): Promise<string | null> {
  let found = enterprises.get(id);
  if (!found) {
    // Not visible to this key (a bank sees only the enterprises that applied to it): no name.
    found = unwrap(api.GET("/api/v1/enterprises/{id}", { params: { path: { id } } })).then(
      (e) => e.name,
      (e) => {
        // Only a refusal is remembered; an outage asks again next time.
        if (!(e instanceof ApiFailure && e.status === 404)) enterprises.delete(id);
        return null;
      },
    );
    enterprises.set(id, found);
  }
  return found;
}

/** An enterprise's name, or its id while the name loads or when this key may not read it. */
export function EnterpriseName({ id }: { id: string }) {
  const [name, setName] = useState<string | null>();
  useEffect(() => {
    let live = true;
    enterpriseName(id).then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [id]);
  if (name) return <span data-enterprise={id}>{name}</span>;
  return (
    <span
      data-enterprise={id}
      class={name === null ? "muted" : undefined}
      title={name === null ? t("此密钥无权查看该企业的名称", "This key may not read the enterprise's name") : undefined}
    >
      {t(`企业 #${id}`, `enterprise #${id}`)}
    </span>
  );
}
