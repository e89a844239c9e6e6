// Runs this case's scripts in Debian's headless Chromium in one browser
// session, to compare with the lines case.json expects from `swrt run`:
// the page online (page.js), then offline (offline.js, with Playwright's
// network emulation, which covers the service worker), then back online,
// when Chromium fires the queued sync, and later.js.
//
//   node runtime_tests/cases/service_worker/workbox/chromium.mjs
//
// Needs what scripts/setup.sh installs (Chromium, playwright-core, esbuild
// and Workbox). Prints the console lines of the page and its worker;
// Chromium's own "Failed to load resource" messages are left out.
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../../..");
const { chromium } = await import(join(repo, "crates/swrt/tests/dashboard/node_modules/playwright-core/index.mjs"));
const modules = join(repo, "runtime_tests/node_modules");
const out = mkdtempSync(join(tmpdir(), "workbox-"));
execFileSync(join(modules, ".bin/esbuild"), [
  "sw.src.js", "--bundle", "--format=iife", '--define:process.env.NODE_ENV="production"',
  "--log-level=warning", `--outfile=${join(out, "sw.js")}`,
], { cwd: here, env: { ...process.env, NODE_PATH: modules } });

// The aux server's /echo, as runtime_tests serves it.
const echo = createServer((req, res) => {
  let bytes = 0;
  req.on("data", (chunk) => (bytes += chunk.length));
  req.on("end", () => res.writeHead(200, { "access-control-allow-origin": "*" }).end(`${req.method} ${bytes} bytes`));
});
await new Promise((resolve) => echo.listen(0, "127.0.0.1", resolve));
const aux = `http://127.0.0.1:${echo.address().port}`;
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".json": "application/json" };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
  if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>workbox</title>");
  try {
    const body = readFileSync(path === "/sw.js" ? join(out, "sw.js") : join(here, path));
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext();
const lines = [];
let waiting = null;
context.on("console", (message) => {
  if (message.type() === "error" && message.text().startsWith("Failed to load resource")) return;
  lines.push(message.text());
  console.log(message.text());
  waiting?.();
});
const until = async (line) => {
  while (!lines.includes(line)) await new Promise((resolve) => (waiting = resolve));
};
const run = (file) => tab.evaluate(`(async () => { ${readFileSync(join(here, file), "utf8").replaceAll("{{AUX}}", aux)} })()`);
const tab = await context.newPage();
await tab.goto(`http://127.0.0.1:${server.address().port}/`);
await run("page.js");
await context.setOffline(true);
await run("offline.js");
await context.setOffline(false);
await until("sw: outbox empty");
await run("later.js");
await browser.close();
server.close();
echo.close();
rmSync(out, { recursive: true });
