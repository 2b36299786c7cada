// The console's browser tests: Debian's chromium driven by playwright-core, against a real
// `innoloan demo` on a fresh SQLite file. Run from console/: `npm test` (INNOLOAN_BIN names the
// binary; by default the debug build in the cargo target directory).
//
// Each role signs in with the key the demo printed. The tests check what the issue promised,
// save one screenshot of each role's main page at 1280 and 375 px under
// target/console-screenshots/, and run axe-core on each main page: no serious or critical
// violation is allowed.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const target = process.env.CARGO_TARGET_DIR ? resolve(root, process.env.CARGO_TARGET_DIR) : join(root, "target");
const binary = process.env.INNOLOAN_BIN ?? join(target, "debug", "innoloan");
const shots = join(target, "console-screenshots");
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
mkdirSync(shots, { recursive: true });

const WIDTHS = [
  { name: "1280", viewport: { width: 1280, height: 900 } },
  { name: "375", viewport: { width: 375, height: 812 }, isMobile: true },
];

let failures = 0;
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL ${name}\n     ${String(error?.stack ?? error).split("\n").join("\n     ")}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Starts `innoloan demo` on a free port; resolves with its address, keys and ids once it serves. */
function startDemo() {
  return new Promise((resolvePromise, reject) => {
    // A fresh temporary SQLite file: no DATABASE_URL.
    const env = { ...process.env, BIND_ADDR: "127.0.0.1:0", RUST_LOG: "warn" };
    delete env.DATABASE_URL;
    const child = spawn(binary, ["demo"], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${out}`)), 180_000);
    child.on("exit", (code) => reject(new Error(`the demo exited with ${code}:\n${out}`)));
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const base = out.match(/serving on (http:\/\/\S+)/)?.[1];
      const key = (label) => out.match(new RegExp(`${label}\\s+(ilk_\\S+)`))?.[1];
      const product = out.match(/products\/(\d+)\/prospects/)?.[1];
      const park = out.match(/parks\/(\d+)\/stats/)?.[1];
      const keys = { admin: key("admin"), office: key("park office, \\S+"), bank: key("bank, \\S+"), enterprise: key("enterprise, \\S+") };
      if (base && product && park && Object.values(keys).every(Boolean)) {
        clearTimeout(timer);
        resolvePromise({ child, base, keys, product, park });
      }
    });
  });
}

/** Signs in with `key`; unless `refused`, waits until the console shows who is signed in. */
async function signIn(browser, demo, key, options = {}, refused = false) {
  const context = await browser.newContext({ locale: "zh-CN", ...options });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
  page.on("request", (request) => {
    if (!request.url().startsWith(demo.base)) problems.push(`a request left the server: ${request.url()}`);
  });
  await page.goto(`${demo.base}/console/`);
  await page.fill("input[name=key]", key);
  await page.click("button[type=submit]");
  if (!refused) await page.locator("header .who").waitFor();
  return { context, page, problems };
}

async function figure(page, id) {
  const money = page.locator(`[data-figure=${id}] .money`);
  await money.waitFor();
  return Number(await money.getAttribute("data-fen"));
}

async function axe(page, label) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(
    bad.length === 0,
    `${label}: axe-core reports ${bad.map((v) => `${v.impact} ${v.id} (${v.nodes.length}): ${v.help}`).join("; ")}`,
  );
}

/** One screenshot of a role's main page at each width, and axe-core on it. */
async function mainPage(browser, demo, key, role, ready) {
  for (const width of WIDTHS) {
    // axe-core is injected as a script, which the console's Content-Security-Policy would refuse.
    const options = { viewport: width.viewport, isMobile: width.isMobile, bypassCSP: true };
    const { context, page, problems } = await signIn(browser, demo, key, options);
    await ready(page);
    await page.waitForTimeout(300); // the charts' entry animation
    await page.screenshot({ path: join(shots, `${role}-${width.name}.png`), fullPage: true });
    await axe(page, `${role} at ${width.name} px`);
    assert(problems.length === 0, `${role}: ${problems.join("; ")}`);
    await context.close();
  }
}

const demo = await startDemo();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  let disbursedBefore = 0;

  await check("the 成都高新区 office sees 643 grants of 金熊猫积分贷: 成都银行 454 for ¥76亿, 工商银行 189 for ¥26亿", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    await page.locator(".who", { hasText: "园区管理办公室 · 成都高新区" }).waitFor();
    await page.locator("[data-figure=credit_lines] .card-value", { hasText: "643" }).waitFor();
    const rows = page.locator("table:has(caption:text('按产品')) tbody tr");
    await rows.first().waitFor();
    const texts = (await rows.allInnerTexts()).map((row) => row.replace(/\s+/g, " "));
    const jinxiongmao = texts.filter((row) => row.startsWith("金熊猫积分贷"));
    assert(jinxiongmao.some((row) => row.includes("成都银行 454 ¥76亿")), `成都银行's row: ${jinxiongmao.join(" | ")}`);
    assert(jinxiongmao.some((row) => row.includes("工商银行 189 ¥26亿")), `工商银行's row: ${jinxiongmao.join(" | ")}`);
    disbursedBefore = await figure(page, "disbursed");
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("an enterprise sees why it fails a product, in words", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.enterprise);
    const reasons = page.locator(".product.ineligible .reasons li");
    await reasons.first().waitFor();
    const all = await reasons.allInnerTexts();
    assert(all.some((r) => /所在园区不在产品限定的园区内|低于最低要求/.test(r)), `reasons: ${all.slice(0, 5).join(" | ")}`);
    await page.click("text=English");
    await page.locator(".product.ineligible .reasons li").first().waitFor();
    const english = await page.locator(".product.ineligible .reasons li").allInnerTexts();
    assert(english.some((r) => /park|score .* is below the minimum/.test(r)), `English reasons: ${english.slice(0, 5).join(" | ")}`);
    await page.click("text=中文");
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  const amountFen = 123_456_700; // ¥1,234,567
  await check("a bank approves a new application and disburses it; the office's dashboard total rises by that amount", async () => {
    const firm = await signIn(browser, demo, demo.keys.enterprise);
    // A hash change within the signed-in page (a fresh load could race the sign-in).
    await firm.page.evaluate((product) => {
      location.hash = `#/apply/${product}`;
    }, demo.product);
    await firm.page.fill("input[name=amount]", String(amountFen / 100));
    await firm.page.fill("input[name=purpose]", "研发投入（浏览器测试）");
    await firm.page.click("button[type=submit]");
    await firm.page.locator(".ok", { hasText: "已提交" }).waitFor();
    await firm.context.close();

    const bank = await signIn(browser, demo, demo.keys.bank);
    const newest = bank.page.locator("tbody tr").last().locator("a");
    await newest.waitFor();
    await newest.click();
    await bank.page.locator("[data-status=submitted]").waitFor();
    await bank.page.click("button:text('批准')");
    await bank.page.locator(".ok", { hasText: "已授信" }).waitFor();
    await bank.page.click(".ok a");
    await bank.page.locator("[data-figure=available] .money").waitFor();
    await bank.page.fill("input[name=amount]", String(amountFen / 100));
    await bank.page.fill("input[name=reference]", `PW-${Date.now()}`);
    await bank.page.click("button:text('放款')");
    await bank.page.locator(".ok", { hasText: "已放款" }).waitFor();
    // The loan it made, repaid in part the same day: no interest has accrued, so all of it is
    // principal.
    const loan = bank.page.locator("tbody tr").first();
    await loan.locator("button", { hasText: "登记还款" }).click();
    await bank.page.locator(".panel input[name=amount]").fill("1000");
    await bank.page.locator(".panel input[name=reference]").fill(`PWR-${Date.now()}`);
    await bank.page.locator(".panel button[type=submit]").click();
    await bank.page.locator(".panel .ok", { hasText: "已登记还款" }).waitFor();
    const outstanding = loan.locator(".money").nth(1);
    await bank.page.waitForFunction(
      (expected) => document.querySelectorAll("tbody tr")[0]?.querySelectorAll(".money")[1]?.getAttribute("data-fen") === expected,
      String(amountFen - 100_000),
    );
    assert(Number(await outstanding.getAttribute("data-fen")) === amountFen - 100_000, "the loan's balance after the repayment");
    assert(bank.problems.length === 0, bank.problems.join("; "));
    await bank.context.close();

    const office = await signIn(browser, demo, demo.keys.office);
    const after = await figure(office.page, "disbursed");
    assert(after - disbursedBefore === amountFen, `disbursed went from ${disbursedBefore} to ${after} fen, not up by ${amountFen}`);
    await office.context.close();
  });

  await check("a score import with bad rows is refused whole, each bad row's errors shown", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    await page.click("nav a[href='#/import']");
    await page.fill("input[name=period]", "2026");
    const csv = "uscc,score,stage\n91510100MA61R0XX1X,95,growth\n91510100MA61R0XX2X,abc,growth\n";
    await page.setInputFiles("input[name=file]", { name: "scores.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.click("button[type=submit]");
    const error = page.locator(".error[data-code=validation_failed]");
    await error.waitFor();
    const text = await error.innerText();
    assert(text.includes("第 1 行") && text.includes("第 2 行"), `the rows' errors: ${text}`);
    assert(problems.filter((p) => !p.includes("422")).length === 0, problems.join("; "));
    await context.close();
  });

  await check("the admin adds a bank and sees it listed", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.admin);
    await page.click("nav a[href='#/banks']");
    await page.locator("tbody tr").first().waitFor();
    await page.fill("input[name=code]", "pw-bank");
    await page.fill("input[name=name]", "浏览器测试银行");
    await page.click("button[type=submit]");
    await page.locator(".ok", { hasText: "已新增" }).waitFor();
    await page.locator("td", { hasText: "浏览器测试银行" }).waitFor();
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("a wrong key gets a clear message", async () => {
    const { context, page } = await signIn(browser, demo, "ilk_not_a_key", {}, true);
    const error = page.locator(".error[data-code=unauthorized]");
    await error.waitFor();
    const text = await error.innerText();
    assert(text.includes("API 密钥无效或已被吊销"), `the message: ${text}`);
    assert((await page.evaluate(() => sessionStorage.getItem("innoloan.key"))) === null, "the wrong key was kept");
    await context.close();
  });

  await check("each role's main page renders at 1280 and 375 px, with no serious accessibility violation", async () => {
    await mainPage(browser, demo, demo.keys.office, "park-office", (page) => page.locator("[data-figure=credit_lines]").waitFor());
    await mainPage(browser, demo, demo.keys.bank, "bank", (page) => page.locator("tbody tr, .muted").first().waitFor());
    await mainPage(browser, demo, demo.keys.enterprise, "enterprise", (page) => page.locator(".product").first().waitFor());
    await mainPage(browser, demo, demo.keys.admin, "admin", (page) => page.locator("[data-figure=credit_lines]").waitFor());
  });
} finally {
  await browser.close();
  demo.child.kill();
}

console.log(failures === 0 ? "\nall console checks passed" : `\n${failures} console check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
