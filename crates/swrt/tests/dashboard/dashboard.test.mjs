// Drives the `swrt serve` dashboard in Debian's headless Chromium.
// Started by ../dashboard.rs with API (the daemon's base URL), TOKEN (its
// bearer token) and ORIGIN (a loopback origin serving sw.js, icon.png, a
// throttled big.bin and /ping).
// Exits 0 when every step passed; each step prints one line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const { API, TOKEN, ORIGIN, SIZE } = process.env;
const STEP_MS = 30_000; // bound on each wait; the test harness bounds the whole run too
let passed = 0;
function pass(what) {
  passed++;
  console.log(`ok ${passed} - ${what}`);
}

async function api(path, body) {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const response = await fetch(API + path, body === undefined ? { headers: auth } : {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function until(what, cond) {
  const deadline = Date.now() + STEP_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pinged(needle) {
  const response = await fetch(process.env.PINGS + "pings");
  return (await response.json()).some((p) => p.includes(needle));
}

const registration = await api("api/workers", { script_url: ORIGIN + "sw.js" });
if (!registration.active) throw new Error("worker not active: " + JSON.stringify(registration));
pass("worker registered through the API");
const fetchView = await api("api/fetches", {
  scope: ORIGIN,
  id: "dashboard-episode",
  requests: ["big.bin"],
  title: "Dashboard episode",
  icons: [{ src: "icon.png", sizes: "32x32", type: "image/png" }],
  download_total: Number(SIZE),
});
pass("fetch started through the API");

const userDataDir = mkdtempSync(join(tmpdir(), "swrt-chromium-"));
// headless: false keeps playwright from choosing a headless flag itself; the
// exact flags the project standardises on are passed here.
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: false,
  args: [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => console.log("page error:", e.message));
  // The link swrt serve prints: the token rides in the fragment.
  await page.goto(`${API}#token=${TOKEN}`);
  const row = page.locator(`.fetch[data-unique-id="${fetchView.unique_id}"]`);
  await row.waitFor({ timeout: STEP_MS });
  const title = await row.locator(".title").textContent();
  if (title !== "Dashboard episode") throw new Error(`title ${title}`);
  pass("the dashboard shows the fetch with its title");

  await page.waitForFunction(
    (id) => document.querySelector(`.fetch[data-unique-id="${id}"] img`)?.naturalWidth === 32,
    fetchView.unique_id, { timeout: STEP_MS });
  pass("the icon loaded");

  const bar = row.locator("progress");
  const first = await bar.evaluate((e) => e.value);
  await page.waitForFunction(
    ([id, v]) => document.querySelector(`.fetch[data-unique-id="${id}"] progress`).value > v,
    [fetchView.unique_id, first], { timeout: STEP_MS });
  const max = await bar.evaluate((e) => e.max);
  if (max !== Number(SIZE)) throw new Error(`progress max ${max}`);
  pass(`the progress bar moves (from ${first} of ${max})`);

  await row.locator("button.open").click();
  await until("the worker's backgroundfetchclick", () => pinged("event=click"));
  pass("Open dispatches backgroundfetchclick to the worker");

  await row.locator("button.abort").click();
  await page.waitForFunction(
    (id) => document.querySelector(`.fetch[data-unique-id="${id}"] .state`)?.dataset.failureReason === "aborted",
    fetchView.unique_id, { timeout: STEP_MS });
  const state = await row.locator(".state").textContent();
  if (!state.startsWith("failed: aborted")) throw new Error(`state ${state}`);
  await until("the worker's backgroundfetchabort", () => pinged("event=abort"));
  await page.waitForFunction(
    (id) => document.querySelector(`.fetch[data-unique-id="${id}"]`)?.dataset.phase === "done",
    fetchView.unique_id, { timeout: STEP_MS });
  if (!(await row.locator("button.abort").isDisabled())) throw new Error("abort still enabled");
  pass(`Abort ends the fetch (state "${await row.locator(".state").textContent()}") and the worker sees backgroundfetchabort`);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`${passed} passed, 0 failed`);
