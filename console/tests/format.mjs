// Unit tests of console/src/format.ts: money as ¥ with 万 and 亿, exact to the rounding rule.
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { transformWithEsbuild } from "vite";

const source = readFileSync(new URL("../src/format.ts", import.meta.url), "utf8");
const { code } = await transformWithEsbuild(source, "format.ts", { loader: "ts", format: "esm" });
const file = join(mkdtempSync(join(tmpdir(), "console-format-")), "format.mjs");
writeFileSync(file, code);
const { money, exactYuan, toFen, day, share, figure } = await import(file);

const cases = [
  [760_000_000_000, "¥76亿"],
  [260_000_000_000, "¥26亿"],
  [6_648_500_000_000, "¥664.85亿"],
  [500_000_000, "¥500万"],
  [123_456_700, "¥123.46万"],
  [999_999_950, "¥1,000万"], // 9,999,999.50 yuan
  [9_999_999_950, "¥1亿"], // 99,999,999.50 yuan rounds to 10,000万: 1亿
  [9_999_949_999, "¥9,999.95万"],
  [1_000_000, "¥1万"],
  [999_999, "¥9,999.99"],
  [12_345, "¥123.45"],
  [5, "¥0.05"],
  [0, "¥0"],
  [-123_456_700, "-¥123.46万"],
];
let failures = 0;
for (const [fen, expected] of cases) {
  const got = money(fen);
  if (got !== expected) {
    failures += 1;
    console.log(`FAIL money(${fen}) = ${got}, expected ${expected}`);
  }
}
for (const [got, expected] of [
  [exactYuan(-50), "-¥0.50"],
  [exactYuan(123_456_789), "¥1,234,567.89"],
  [toFen("1,234.5"), 123_450],
  [toFen("0.001"), null],
  [toFen("abc"), null],
  [day("2026-11-29T08:00:00Z"), "2026-11-29"],
  [share(0.07), "7%"],
  [share(0.125), "12.5%"],
  [share(0.6), "60%"],
  [figure(80), "80"],
  [figure(911.01), "911.01"],
  [figure(17309), "17,309"],
  [figure(9375.6), "9,375.6"],
  [figure(0.126), "0.13"],
]) {
  if (got !== expected) {
    failures += 1;
    console.log(`FAIL ${got} !== ${expected}`);
  }
}
console.log(failures === 0 ? "ok   money, amounts, dates, shares and figures format as readers expect" : `${failures} format check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
