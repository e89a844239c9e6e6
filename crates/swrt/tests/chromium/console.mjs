// Serves a directory on loopback, opens `page` in Debian's headless
// Chromium, and prints the console lines of the page, its frames and its
// service workers, one per line, until `count` lines have arrived (or 30 s
// passed). The parity test compares them with what `swrt run` prints.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "../dashboard/node_modules/playwright-core/index.mjs";

const [dir, page, countText] = process.argv.slice(2);
const count = Number(countText);
const types = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
  ".txt": "text/plain", ".json": "application/json",
};

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
  if (path.includes("..")) return res.writeHead(400).end();
  try {
    const body = await readFile(join(dir, path));
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext();
const lines = [];
let finish;
const finished = new Promise((resolve) => { finish = resolve; });
const limit = setTimeout(() => finish(), 30_000);
context.on("console", (message) => {
  // Network errors (a 404 favicon, a missing script) are the browser's own
  // messages, not the page's console calls.
  if (message.type() === "error" && message.text().startsWith("Failed to load resource")) return;
  lines.push(...message.text().split("\n"));
  if (lines.length >= count) finish();
});
const tab = await context.newPage();
await tab.goto(`${origin}/${page}`);
await finished;
clearTimeout(limit);
// Lines that would arrive after the expected ones also count.
await new Promise((resolve) => setTimeout(resolve, 300));
for (const line of lines) console.log(line);
await browser.close();
server.close();
