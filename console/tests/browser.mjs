// The console's browser tests: Debian's chromium driven by playwright-core, against a real
// `innoloan demo` on a fresh SQLite file. Run from console/: `npm test` (INNOLOAN_BIN names the
// binary; by default the debug build in the cargo target directory).
//
// Each role signs in with the key the demo printed. The tests check what the issue promised,
// save one screenshot of each role's main page, and of the score model, recommendation list,
// recommended-enterprise, score-breakdown, subsidy programme and policies pages, at 1280 and
// 375 px under target/console-screenshots/, and run axe-core on each of them: no serious or
// critical violation is allowed.
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

/**
 * One screenshot of a role's main page (or of the page `ready` goes to) at each width, and
 * axe-core on it. `expected` keeps the console messages that page is meant to cause.
 */
async function mainPage(browser, demo, key, role, ready, expected = () => false) {
  for (const width of WIDTHS) {
    // axe-core is injected as a script, which the console's Content-Security-Policy would refuse.
    const options = { viewport: width.viewport, isMobile: width.isMobile, bypassCSP: true };
    const { context, page, problems } = await signIn(browser, demo, key, options);
    await ready(page);
    await page.waitForTimeout(300); // the charts' entry animation
    await page.screenshot({ path: join(shots, `${role}-${width.name}.png`), fullPage: true });
    await axe(page, `${role} at ${width.name} px`);
    const unexpected = problems.filter((p) => !expected(p));
    assert(unexpected.length === 0, `${role}: ${unexpected.join("; ")}`);
    await context.close();
  }
}

/** The text of each row of the table with this caption, spaces collapsed. */
async function rowsOf(page, caption) {
  const rows = page.locator(`table:has(caption:text('${caption}')) tbody tr`);
  await rows.first().waitFor();
  return (await rows.allInnerTexts()).map((row) => row.replace(/\s+/g, " ").trim());
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

  await check("the 成都高新区 office sees its recommendation list with 成都银行's and 工商银行's rows, and the dashboard's tally", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    const tally = await rowsOf(page, "按银行（推荐清单）");
    assert(tally.length === 2, `the dashboard's recommendation rows: ${tally.join(" | ")}`);
    assert(["成都银行", "工商银行"].every((bank) => tally.some((row) => row.startsWith(`${bank} 30 `))), `the dashboard: ${tally.join(" | ")}`);
    await page.click("nav a[href='#/lists']");
    await page.click("a:text('成都高新区创新积分白名单（第四季度）')");
    await page.locator("h1 .tag[data-status=published]").waitFor();
    const banks = await rowsOf(page, "按银行");
    assert(banks.length === 2, `the list's bank rows: ${banks.join(" | ")}`);
    for (const bank of ["成都银行", "工商银行"]) {
      const row = banks.find((r) => r.startsWith(`${bank} `));
      // Bank, tasks, answered, taken up, granted, declined, take-up rate, median, overdue, late.
      assert(row && /^\S+ 30 \d+ \d+ \d+ \d+ \d+\.\d{2}% (\d+\.\d|—) \d+ \d+$/.test(row), `${bank}'s row: ${row}`);
    }
    // Its tasks, paged: 60, two banks for each of the 30 enterprises.
    const tasks = page.locator("tbody tr:has([data-status])");
    await tasks.first().waitFor();
    assert((await tasks.count()) === 50, `the first page of tasks has ${await tasks.count()} rows`);
    await page.click("button:text('下一页') >> nth=-1");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr [data-status]").length === 10);
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("成都银行 answers 成都美洽's open task as contacted, and it is no longer open", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.bank);
    await page.click("nav a[href='#/tasks']");
    const meiqia = page.locator("tbody tr", { hasText: "成都美洽网络科技有限公司" });
    await meiqia.waitFor();
    assert(await meiqia.locator("[data-overdue]").isVisible(), "成都美洽's task is not marked overdue");
    const open = await page.locator("tbody tr").count();
    await meiqia.locator("button", { hasText: "答复" }).click();
    await page.locator(".panel select[name=status]").selectOption("contacted");
    await page.locator(".panel textarea[name=reason]").fill("客户经理已电话联系（浏览器测试）");
    await page.locator(".panel button[type=submit]").click();
    await page.locator(".ok", { hasText: "已答复" }).waitFor();
    await page.waitForFunction((before) => document.querySelectorAll("tbody tr").length === before - 1, open);
    assert((await meiqia.count()) === 0, "成都美洽's task is still listed as open");
    await page.selectOption("select[name=filter]", "all");
    await page.locator("tbody tr", { hasText: "成都美洽网络科技有限公司" }).locator("text=客户经理已电话联系").waitFor();
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("成都银行's task list names each enterprise, 成都美洽网络科技有限公司 among them, without a fallback id", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.bank);
    await page.click("nav a[href='#/tasks']");
    await page.selectOption("select[name=filter]", "all");
    const meiqia = page.locator("tbody tr [data-enterprise]", { hasText: "成都美洽网络科技有限公司" });
    await meiqia.first().waitFor();
    assert(/^[0-9A-Z]{18}$/.test((await meiqia.first().getAttribute("title")) ?? ""), "the USCC is not on hover");
    const names = await page.locator("tbody tr [data-enterprise]").allInnerTexts();
    assert(names.length > 0 && names.every((n) => n.trim() && !n.includes("企业 #")), `names: ${names.slice(0, 5).join(" | ")}`);
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("the 成都高新区 office opens a risk pool over 金熊猫积分贷, tops it up, and sees the balance", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    await page.click("nav a[href='#/pools']");
    await page.locator("label.check", { hasText: "金熊猫积分贷" }).first().waitFor();
    // Nothing chosen and a bad coverage: each bad field named, before anything is sent.
    await page.fill("input[name=name]", "浏览器测试风险补偿资金池");
    await page.fill("input[name=coverage]", "150");
    await page.fill("input[name=per_loan_cap]", "2000000");
    await page.fill("input[name=enrol_from]", "2024-01-01");
    await page.fill("input[name=enrol_to]", "2030-12-31");
    await page.click("button:text('设立')");
    const error = page.locator(".error[data-code=validation_failed]");
    await error.waitFor();
    const text = await error.innerText();
    assert(text.includes("product_ids") && text.includes("coverage_bps"), `the fields' errors: ${text}`);
    await page.locator("label.check", { hasText: "金熊猫积分贷" }).first().locator("input").check();
    await page.fill("input[name=coverage]", "50");
    await page.click("button:text('设立')");
    await page.locator("h1", { hasText: "浏览器测试风险补偿资金池" }).waitFor();
    const before = await figure(page, "balance");
    await page.fill("input[name=amount]", "1000000");
    await page.fill("input[name=reference]", `PWT-${Date.now()}`);
    await page.click("button:text('注资')");
    await page.locator(".ok", { hasText: "已注资" }).waitFor();
    await page.waitForFunction(
      (expected) => document.querySelector("[data-figure=balance] .money")?.getAttribute("data-fen") === expected,
      String(before + 100_000_000),
    );
    if (before === 0) assert((await page.locator("[data-figure=balance] .money").innerText()) === "¥100万", "the balance does not read ¥100万");
    await page.locator("table:has(caption:text('资金流水')) [data-kind=top_up]").first().waitFor();
    assert(/^(1:\d|—)/.test(await page.locator("[data-figure=leverage] .card-value").innerText()), "the leverage is not shown as 1:x");
    // The dashboard lists it.
    await page.click("nav a[href='#/']");
    const pools = await rowsOf(page, "风险补偿资金池");
    assert(pools.some((row) => row.startsWith("浏览器测试风险补偿资金池 ")), `the dashboard's pools: ${pools.join(" | ")}`);
    assert(problems.filter((p) => !p.includes("422")).length === 0, problems.join("; "));
    await context.close();
  });

  await check("the 成都高新区 office approves a filed claim on the demo's pool, and the balance falls by its amount (skipped without one)", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    await page.click("nav a[href='#/pools']");
    const demoPool = page.locator("table:has(caption:text('资金池')) tbody tr a", { hasText: "风险补偿资金池" }).filter({ hasNotText: "浏览器测试" });
    await page.locator("table:has(caption:text('资金池')) tbody tr a").first().waitFor();
    if ((await demoPool.count()) === 0) {
      console.log("     (skipped: the demo has no risk pool yet)");
      await context.close();
      return;
    }
    await demoPool.first().click();
    const filed = page.locator("table:has(caption:text('代偿申请明细')) tbody tr:has([data-status=filed])");
    await page.locator("[data-figure=balance] .money").waitFor();
    await page.locator("table:has(caption:text('代偿申请明细')), p.muted").first().waitFor();
    if ((await filed.count()) === 0) {
      console.log("     (skipped: the demo's pool has no filed claim)");
      await context.close();
      return;
    }
    const claim = filed.first();
    const amount = Number(await claim.locator(".money").nth(1).getAttribute("data-fen"));
    const before = await figure(page, "balance");
    await claim.locator("button", { hasText: "批准并支付" }).click();
    await page.waitForFunction(
      (expected) => document.querySelector("[data-figure=balance] .money")?.getAttribute("data-fen") === expected,
      String(before - amount),
    );
    await page.locator("table:has(caption:text('资金流水明细')) [data-kind=claim_paid]").first().waitFor();
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  const programme = "成都高新区科技型企业贷款贴息";
  await check(`the 成都高新区 office sees ${programme} with 3 claims (2 approved, 1 filed), approves the filed one, and the dashboard shows it`, async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    await page.click("nav a[href='#/subsidies']");
    const programmes = await rowsOf(page, "贴息项目列表");
    const row = programmes.find((r) => r.startsWith(`${programme} `));
    // Budget ¥500万, share 30%, bonus 10%, cap ¥20万 per enterprise, open.
    assert(row && /^\S+ ¥500万 .* 30\.00% 10\.00% ¥20万 2022-01-01 – \d{4}-12-31 申报期内$/.test(row), `the programme's row: ${row}`);
    await page.click(`a:text('${programme}')`);
    await page.locator("h1", { hasText: programme }).waitFor();
    const claims = page.locator("table:has(caption:text('贴息申请明细')) tbody tr");
    await claims.first().waitFor();
    assert((await claims.count()) === 3, `${await claims.count()} claims, not 3`);
    assert((await page.locator("tbody [data-status=approved]").count()) === 2, "not 2 approved claims");
    const filed = claims.filter({ has: page.locator("[data-status=filed]") });
    assert((await filed.count()) === 1, "not 1 filed claim");
    // Each claim names its enterprise, not a fallback id.
    await page.waitForFunction(() => [...document.querySelectorAll("tbody [data-enterprise]")].every((e) => !e.textContent.includes("企业 #")));
    const amount = Number(await filed.locator(".money").nth(1).getAttribute("data-fen"));
    assert(amount > 0, `the filed claim's amount: ${amount}`);
    const before = await figure(page, "paid");
    const remaining = await figure(page, "remaining");
    await filed.locator("button", { hasText: "批准并支付" }).click();
    await page.waitForFunction(
      (expected) => document.querySelector("[data-figure=paid] .money")?.getAttribute("data-fen") === expected,
      String(before + amount),
    );
    assert((await figure(page, "remaining")) === remaining - amount, "the remaining budget did not fall by the claim");
    await page.waitForFunction(() => document.querySelectorAll("tbody [data-status=approved]").length === 3);
    // The dashboard: policy money and the programme.
    await page.click("nav a[href='#/']");
    const listed = await rowsOf(page, "贴息项目");
    assert(listed.some((r) => r.startsWith(`${programme} `)), `the dashboard's programmes: ${listed.join(" | ")}`);
    assert((await figure(page, "subsidies_paid")) >= before + amount, "the dashboard's subsidies paid do not count the approval");
    assert((await figure(page, "pool_balance")) > 0, "the dashboard shows no pool balance");
    const banks = await rowsOf(page, "按银行");
    assert(banks.some((r) => r.startsWith("成都银行 ") && /¥[\d.,]+万$/.test(r)), `成都银行's subsidies paid: ${banks.join(" | ")}`);
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("the 成都高新区 office opens a subsidy programme: bad fields named first, then its page", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    await page.click("nav a[href='#/subsidies']");
    await page.fill("input[name=name]", "浏览器测试贴息项目");
    await page.fill("input[name=share]", "150");
    await page.fill("input[name=bonus]", "10");
    await page.fill("input[name=per_enterprise_cap]", "0");
    await page.fill("input[name=budget]", "1000000");
    await page.fill("input[name=min_score]", "60");
    await page.fill("input[name=from]", "2024-01-01");
    await page.fill("input[name=to]", "2030-12-31");
    await page.click("button:text('设立项目')");
    const error = page.locator(".error[data-code=validation_failed]");
    await error.waitFor();
    const text = await error.innerText();
    assert(text.includes("share_bps") && text.includes("per_enterprise_cap"), `the fields' errors: ${text}`);
    await page.fill("input[name=share]", "20");
    await page.fill("input[name=per_enterprise_cap]", "200000");
    await page.click("button:text('设立项目')");
    await page.locator("h1", { hasText: "浏览器测试贴息项目" }).waitFor();
    assert((await figure(page, "budget")) === 100_000_000, "the budget is not ¥100万 in fen");
    const facts = await page.locator(".facts").innerText();
    assert(facts.includes("20.00%") && facts.includes("10.00%") && facts.includes("积分不低于 60"), `the programme's facts: ${facts}`);
    assert(problems.filter((p) => !p.includes("422")).length === 0, problems.join("; "));
    await context.close();
  });

  await check(`成都美洽 qualifies for ${programme} with a positive estimate and for 金熊猫积分贷 under the pool, claims, and sees its claim filed`, async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.enterprise);
    await page.click("nav a[href='#/policies']");
    const offer = page.locator(".policy.eligible[data-kind=subsidy_program]", { hasText: programme });
    await offer.waitFor();
    const estimate = Number(await offer.locator("[data-estimate] .money").getAttribute("data-fen"));
    assert(estimate > 0, `the estimated subsidy: ${estimate}`);
    const pool = page.locator(".policy.eligible[data-kind=risk_pool][data-policy='成都高新区科技信贷风险补偿资金池']", { hasText: "金熊猫积分贷" });
    await pool.waitFor();
    assert((await pool.innerText()).includes("80.00%"), `the pool's coverage: ${await pool.innerText()}`);
    await offer.locator("button", { hasText: "申请贴息" }).click();
    const filed = offer.locator(".ok[data-claim]");
    await filed.waitFor();
    const amount = Number(await filed.locator(".money").first().getAttribute("data-fen"));
    assert(amount === estimate, `the claim pays ${amount}, the estimate was ${estimate}`);
    const mine = page.locator("table:has(caption:text('贴息申请明细')) tbody tr", { has: page.locator("[data-status=filed]") });
    await mine.first().waitFor();
    assert((await mine.first().innerText()).includes(programme), `the claim's row: ${await mine.first().innerText()}`);
    // Nothing is left to claim: a second claim is refused, in words.
    await offer.locator("button", { hasText: "申请贴息" }).click();
    await offer.locator(".error[data-code=validation_failed]").waitFor();
    assert(problems.filter((p) => !p.includes("422")).length === 0, problems.join("; "));
    await context.close();
  });

  await check("the 成都高新区 office sees on an enterprise's page the banks it was recommended to", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    const task = await page.evaluate(async () => {
      const response = await fetch("/api/v1/recommendation-tasks?limit=1", {
        headers: { Authorization: `Bearer ${sessionStorage.getItem("innoloan.key")}` },
      });
      return (await response.json()).items[0];
    });
    await page.evaluate((id) => {
      location.hash = `#/enterprises/${id}`;
    }, task.enterprise_id);
    await page.locator("h1", { hasText: task.enterprise_name }).waitFor();
    const rows = await rowsOf(page, "推荐给的银行");
    assert(rows.length > 0 && rows.every((row) => /^(成都银行|工商银行) /.test(row)), `recommended to: ${rows.join(" | ")}`);
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("成都美洽 sees that it was recommended to 成都银行 and 工商银行", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.enterprise);
    const rows = await rowsOf(page, "推荐给的银行");
    for (const bank of ["成都银行", "工商银行"]) {
      assert(rows.some((row) => row.startsWith(`${bank} `)), `recommended to: ${rows.join(" | ")}`);
    }
    assert(rows.some((row) => row.includes("已对接") && row.includes("客户经理已上门对接")), `the answers: ${rows.join(" | ")}`);
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("the admin sees a 昆山高新区 enterprise's score, indicator by indicator", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.admin);
    await page.click("nav a[href='#/parks']");
    await page.click("a:text('昆山高新区')");
    await page.locator("h1", { hasText: "昆山高新区 · 企业" }).waitFor();
    await page.locator("tbody tr a").first().click();
    const breakdown = page.locator(".breakdown[data-model-version='1']");
    await breakdown.waitFor();
    assert((await breakdown.locator("h3").innerText()).includes("模型第 1 版"), "the model's version is not shown");
    const rows = breakdown.locator("tbody tr");
    assert((await rows.count()) === 18, `${await rows.count()} indicators, not the default model's 18`);
    assert((await rows.first().locator("[title]").getAttribute("title")) === "rd_expense", "the indicator's code is not on hover");
    const contributions = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.lastElementChild?.textContent)));
    const total = contributions.reduce((a, b) => a + b, 0);
    const score = Number(await page.locator("[data-figure=score] .card-value").innerText());
    assert(Math.abs(total - score) <= 0.02, `the contributions sum to ${total}, the score is ${score}`);
    assert(problems.length === 0, problems.join("; "));
    await context.close();
  });

  await check("成都高新区 has no score model: its office creates one from the default, activates it, and a bad indicator import lists each row's errors", async () => {
    const { context, page, problems } = await signIn(browser, demo, demo.keys.office);
    await page.click("nav a[href='#/models']");
    await page.locator("[data-state=no-model]").waitFor();
    // The name it offers: the default model's, for this park.
    await page.waitForFunction(() => document.querySelector("input[name=name]")?.value.includes("成都高新区"));
    await page.click("button:text('以默认模型创建')");
    await page.locator("h1", { hasText: "积分模型第 1 版" }).waitFor();
    await page.click("button:text('启用此版本')");
    await page.locator("h1 .tag", { hasText: "启用中" }).waitFor();
    await page.locator("td", { hasText: "rd_expense_growth" }).first().waitFor();
    await page.click("a:text('← 全部版本')");
    await page.locator("[data-status=active]").waitFor();
    await page.fill("input[name=period]", "2026");
    const csv = "uscc,stage,rd_expense\n91510100MA0000011M,growth,abc\n91510100MA00000XXX,blah,5\n";
    await page.fill("textarea[name=csv]", csv);
    await page.click("button:text('导入并计算')");
    const error = page.locator(".error[data-code=validation_failed]");
    await error.waitFor();
    const text = await error.innerText();
    assert(text.includes("第 1 行") && text.includes("第 2 行") && text.includes("rd_expense_growth"), `the rows' errors: ${text}`);
    assert(problems.filter((p) => !p.includes("422")).length === 0, problems.join("; "));
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

  await check("the new pages render at 1280 and 375 px, with no serious accessibility violation", async () => {
    await mainPage(browser, demo, demo.keys.office, "park-office-models", async (page) => {
      await page.click("nav a[href='#/models']");
      await page.locator("[data-status=active]").waitFor();
    });
    await mainPage(browser, demo, demo.keys.office, "park-office-list", async (page) => {
      await page.click("nav a[href='#/lists']");
      await page.click("a:text('成都高新区创新积分白名单（第四季度）')");
      await page.locator("tbody tr:has([data-status])").first().waitFor();
    });
    await mainPage(
      browser,
      demo,
      demo.keys.bank,
      "bank-tasks",
      async (page) => {
        await page.click("nav a[href='#/tasks']");
        await page.locator("tbody tr [data-overdue]").first().waitFor();
      },
    );
    await mainPage(browser, demo, demo.keys.office, "park-office-pool", async (page) => {
      await page.click("nav a[href='#/pools']");
      await page.locator("table:has(caption:text('资金池')) tbody tr a").first().click();
      await page.locator("[data-figure=balance] .money").waitFor();
      await page.locator("table:has(caption:text('资金流水')) tbody tr, p.muted").first().waitFor();
    });
    await mainPage(browser, demo, demo.keys.bank, "bank-claims", async (page) => {
      await page.click("nav a[href='#/claims']");
      await page.locator("input[name=loan_id]").waitFor();
      await page.locator("table:has(caption:text('代偿申请')), p.muted").first().waitFor();
    });
    await mainPage(browser, demo, demo.keys.office, "park-office-subsidy", async (page) => {
      await page.click("nav a[href='#/subsidies']");
      await page.click(`a:text('${programme}')`);
      await page.locator("[data-figure=remaining] .money").waitFor();
      await page.locator("table:has(caption:text('贴息申请明细')) tbody tr").first().waitFor();
    });
    await mainPage(browser, demo, demo.keys.enterprise, "enterprise-policies", async (page) => {
      await page.click("nav a[href='#/policies']");
      await page.locator(".policy.eligible").first().waitFor();
      await page.locator("table:has(caption:text('贴息申请明细')), p.muted").first().waitFor();
    });
    await mainPage(browser, demo, demo.keys.admin, "admin-score", async (page) => {
      await page.click("nav a[href='#/parks']");
      await page.click("a:text('昆山高新区')");
      await page.locator("h1", { hasText: "昆山高新区 · 企业" }).waitFor();
      await page.locator("tbody tr a").first().click();
      await page.locator(".breakdown tbody tr").first().waitFor();
    });
  });
} finally {
  await browser.close();
  demo.child.kill();
}

console.log(failures === 0 ? "\nall console checks passed" : `\n${failures} console check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
