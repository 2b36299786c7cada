// How figures read: money as ¥ with 万 and 亿 (the API speaks fen), dates as YYYY-MM-DD.

const WAN = 10_000n * 100n; // 万元 in fen
const YI = 100_000_000n * 100n; // 亿元 in fen

function trimmed(whole: bigint, part: bigint, unit: bigint): string {
  // Two decimals, rounded half-up, trailing zeros dropped.
  const hundredths = (part * 100n * 2n + unit) / (unit * 2n);
  const carry = hundredths >= 100n ? 1n : 0n;
  const cents = carry ? hundredths - 100n : hundredths;
  const integer = (whole + carry).toLocaleString("en-US");
  if (cents === 0n) return integer;
  return `${integer}.${cents.toString().padStart(2, "0").replace(/0$/, "")}`;
}

/** ¥76亿, ¥500万, ¥1,234.56: the amount in fen as a reader in China expects it. */
export function money(fen: number | bigint | null | undefined): string {
  if (fen === null || fen === undefined) return "—";
  let value = BigInt(fen);
  const sign = value < 0n ? "-" : "";
  if (value < 0n) value = -value;
  // 万 up to what rounds to 10,000万, which reads as 1亿.
  const roundsToYi = value >= WAN && (value * 100n * 2n + WAN) / (WAN * 2n) >= 10_000n * 100n;
  if (value >= YI || roundsToYi) return `${sign}¥${trimmed(value / YI, value % YI, YI)}亿`;
  if (value >= WAN) return `${sign}¥${trimmed(value / WAN, value % WAN, WAN)}万`;
  return `${sign}¥${trimmed(value / 100n, value % 100n, 100n)}`;
}

/** The exact amount in yuan, for a tooltip. */
export function exactYuan(fen: number): string {
  const value = BigInt(fen);
  const magnitude = value < 0n ? -value : value;
  const sign = value < 0n ? "-" : "";
  return `${sign}¥${(magnitude / 100n).toLocaleString("en-US")}.${(magnitude % 100n).toString().padStart(2, "0")}`;
}

/** YYYY-MM-DD of a date or an RFC 3339 timestamp (UTC). */
export function day(value: string | null | undefined): string {
  if (!value) return "—";
  return value.slice(0, 10);
}

export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

export function bps(rate: number): string {
  return `${(rate / 100).toFixed(2)}%`;
}

/** Yuan typed by a person, to fen; null when it is not an amount. */
export function toFen(yuan: string): number | null {
  const text = yuan.trim().replace(/,/g, "");
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null;
  const [whole, part = ""] = text.split(".");
  const fen = BigInt(whole) * 100n + BigInt(part.padEnd(2, "0"));
  if (fen > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(fen);
}

/** A share from 0 to 1 as a percentage without trailing zeros: 0.07 is 7%, 0.125 is 12.5%. */
export function share(ratio: number): string {
  return `${Number((ratio * 100).toFixed(2))}%`;
}

/** A figure with at most `digits` decimals, trailing zeros dropped: 80 and 911.01. */
export function figure(value: number, digits = 2): string {
  return Number(value.toFixed(digits)).toLocaleString("en-US", { maximumFractionDigits: digits });
}
