// The pieces every page is made of: loading, errors in words, money, tables, cursor pages, forms
// and charts.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { ApiFailure, idempotencyKey } from "./api/client";
import { exactYuan, money } from "./format";
import { errorHeadline, t } from "./i18n";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type Loaded<T> = { data?: T; error?: unknown; loading: boolean; reload: () => void };

/** Runs `load` when `deps` change, and again on `reload()`. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

/** An error, in words: the headline of its code, the service's sentence, and each detail. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof ApiFailure)) {
    return (
      <div class="error" role="alert">
        <strong>{t("出错了。", "Something went wrong.")}</strong> {error instanceof Error ? error.message : String(error)}
      </div>
    );
  }
  const { info } = error;
  return (
    <div class="error" role="alert" data-code={info.code}>
      <strong>{errorHeadline(info.code)}</strong>
      <p>{info.message}</p>
      {info.details.length > 0 && (
        <ul>
          {info.details.map((d, i) => (
            <li key={i}>
              {d.row !== undefined && <span class="tag">{t(`第 ${d.row} 行`, `row ${d.row}`)}</span>}
              {d.field && <code>{d.field}</code>} {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Shows what a load gave: the error in words, a loading note, or the page. */
export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (loaded.data === undefined) return <p class="muted">{t("加载中…", "Loading…")}</p>;
  return <>{children(loaded.data)}</>;
}

/** An amount of money, with the exact figure on hover and in `data-fen`. */
export function Money({ fen }: { fen: number | null | undefined }) {
  if (fen === null || fen === undefined) return <span>—</span>;
  return (
    <span class="money" data-fen={fen} title={exactYuan(fen)}>
      {money(fen)}
    </span>
  );
}

export function Card({ label, children, id }: { label: string; children: ComponentChildren; id?: string }) {
  return (
    <div class="card" data-figure={id}>
      <div class="card-label">{label}</div>
      <div class="card-value">{children}</div>
    </div>
  );
}

export type Column<T> = { label: string; cell: (row: T) => ComponentChildren; numeric?: boolean };

export function Table<T>({ rows, columns, caption, empty }: { rows: T[]; columns: Column<T>[]; caption?: string; empty?: string }) {
  if (rows.length === 0) return <p class="muted">{empty ?? t("暂无记录。", "Nothing yet.")}</p>;
  return (
    // Focusable, so that a table wider than the screen scrolls from the keyboard too.
    <div class="table-wrap" tabIndex={0} role={caption ? "region" : undefined} aria-label={caption}>
      <table>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={c.numeric ? "num" : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {columns.map((c) => (
                <td class={c.numeric ? "num" : undefined}>{c.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A list read page by page with the API's cursors. */
export function Paged<T>({
  load,
  columns,
  deps = [],
  caption,
}: {
  load: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>;
  columns: Column<T>[];
  deps?: unknown[];
  caption?: string;
}) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), deps);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => load(cursor), [cursor, ...deps]);
  return (
    <Show loaded={page}>
      {(data) => (
        <>
          <Table rows={data.items} columns={columns} caption={caption} />
          <div class="pager">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              {t("上一页", "Previous")}
            </button>
            <span class="muted">{t(`第 ${cursors.length} 页`, `Page ${cursors.length}`)}</span>
            <button
              type="button"
              disabled={!data.next_cursor}
              onClick={() => data.next_cursor && setCursors([...cursors, data.next_cursor])}
            >
              {t("下一页", "Next")}
            </button>
          </div>
        </>
      )}
    </Show>
  );
}

/** A list the service gave whole, shown `size` rows a page. */
export function LocalPaged<T>({ rows, columns, caption, size = 50 }: { rows: T[]; columns: Column<T>[]; caption?: string; size?: number }) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const shown = Math.min(page, pages - 1);
  return (
    <>
      <Table rows={rows.slice(shown * size, (shown + 1) * size)} columns={columns} caption={caption} />
      {pages > 1 && (
        <div class="pager">
          <button type="button" disabled={shown === 0} onClick={() => setPage(shown - 1)}>
            {t("上一页", "Previous")}
          </button>
          <span class="muted">{t(`第 ${shown + 1} / ${pages} 页`, `Page ${shown + 1} of ${pages}`)}</span>
          <button type="button" disabled={shown === pages - 1} onClick={() => setPage(shown + 1)}>
            {t("下一页", "Next")}
          </button>
        </div>
      )}
    </>
  );
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint && <small class="muted">{hint}</small>}
    </label>
  );
}

/**
 * A form whose submit runs `action`, showing its error in words, or `done` once it succeeded.
 * `action` gets an idempotency key that stays the same until the service gives a definite
 * answer: a submit retried after a network failure or an outage is the same request, never a
 * second disbursement.
 */
export function Form({
  action,
  children,
  submit,
  done,
}: {
  action: (form: FormData, idempotencyKey: string) => Promise<void>;
  children: ComponentChildren;
  submit: string;
  done?: string;
}) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState(false);
  const [attempt, setAttempt] = useState(idempotencyKey);
  const onSubmit = async (event: JSX.TargetedEvent<HTMLFormElement, Event>) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setOk(false);
    try {
      await action(new FormData(event.currentTarget), attempt);
      setOk(true);
      setAttempt(idempotencyKey());
    } catch (e) {
      setError(e);
      // Refused (4xx) or never sent: the next submit is a new request. Otherwise the outcome is
      // unknown, and the same key asks again.
      const definite =
        !(e instanceof ApiFailure) || (e.status >= 400 && e.status < 500 && e.info.code !== "idempotency_key_in_flight");
      if (definite) setAttempt(idempotencyKey());
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={onSubmit} class="form">
      {children}
      <button type="submit" disabled={busy}>
        {submit}
      </button>
      {ok && done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      <ErrorBox error={error} />
    </form>
  );
}

/** A button that runs one action, showing its error in words. */
export function Action({ label, run, danger }: { label: string; run: () => Promise<void>; danger?: boolean }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <span class="action">
      <button
        type="button"
        class={danger ? "danger" : undefined}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            await run();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {label}
      </button>
      <ErrorBox error={error} />
    </span>
  );
}

/** An ECharts chart; `label` names it for screen readers. */
export function Chart({ option, label }: { option: echarts.EChartsCoreOption; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return;
    const chart = echarts.init(element.current, undefined, { renderer: "canvas" });
    chart.setOption(option);
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      chart.dispose();
    };
  }, [option]);
  return <div class="chart" ref={element} role="img" aria-label={label} />;
}

/** Fen as 亿 for a chart axis. */
export function yi(fen: number): number {
  return Math.round(fen / 1e8) / 100;
}

export function text(form: FormData, name: string): string {
  return String(form.get(name) ?? "").trim();
}
