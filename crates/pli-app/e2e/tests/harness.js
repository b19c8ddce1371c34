// What every browser test starts: a real `pli serve` (embedded SQLite) and real `pli app`s,
// each on its own home, all on 127.0.0.1; and the helpers that drive the first-run form,
// check accessibility with axe-core and write the screenshots the README shows.
const { spawn, execFile } = require("node:child_process");
const fs = require("node:fs");
const zlib = require("node:zlib");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const { expect } = require("@playwright/test");
const AxeBuilder = require("@axe-core/playwright").default;

const ROOT = path.resolve(__dirname, "../../../..");
const PLI = process.env.PLI_BIN || path.join(ROOT, "target/debug/pli");
const SCREENSHOTS = path.join(ROOT, "docs/screenshots");

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pli-e2e-${name}-`));
}

/** The first line of `stream` that `pick` accepts (its result), or the process's exit. */
function firstLine(child, stream, pick) {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: stream });
    const seen = [];
    lines.on("line", (line) => {
      seen.push(line);
      const found = pick(line);
      if (found) resolve(found);
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code} before it was ready:\n${seen.join("\n")}`)));
  });
}

/** A port free right now (for a server that must come back on the same address). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Sends `signal` to `child`; resolves with its exit code (null if a signal ended it). */
function stopped(child, signal = "SIGTERM") {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.kill(signal);
  });
}

/** `pli serve` on embedded SQLite; `port` 0 picks one. */
async function startServer({ data = tempDir("server"), port = 0 } = {}) {
  const child = spawn(PLI, ["serve", "--listen", `127.0.0.1:${port}`, "--pow-difficulty", "4", "--log", "warn", "--data", data], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await firstLine(child, child.stderr, (line) => line.split(/\s+/).find((w) => w.startsWith("http://")));
  return { url, data, child, stop: () => stopped(child) };
}

/** `pli app` on `home` (a new one by default): its URL with the one-time token. */
async function startApp(home = tempDir("home")) {
  const child = spawn(PLI, ["--home", home, "app", "--no-open", "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr.resume();
  const url = await firstLine(child, child.stdout, (line) => (line.startsWith("http://") ? line.trim() : null));
  return { url, home, child, origin: new URL(url).origin, stop: (signal) => stopped(child, signal) };
}

/** The `pli` command line on `home`; resolves with its standard output. */
function cli(home, ...args) {
  return new Promise((resolve, reject) => {
    execFile(PLI, ["--home", home, ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pli ${args.join(" ")}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Opens `app` in `page` and registers `name` on `server` through the first-run form. */
async function register(page, app, server, name) {
  // The token opens the app once; a page already on it stays.
  if (!page.url().startsWith(app.origin)) await page.goto(app.url);
  await page.getByRole("textbox", { name: "Server" }).fill(server.url);
  await page.getByRole("textbox", { name: "Username" }).fill(name);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByRole("button", { name: "New chat" })).toBeVisible();
}

/** Starts the 1:1 chat with `peer` from the main view. */
async function startChat(page, peer) {
  await page.getByRole("button", { name: "New chat" }).click();
  await page.getByRole("textbox", { name: "Username" }).fill(peer);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByRole("heading", { name: `@${peer}` })).toBeVisible();
}

/** Sends `text` from the composer with Enter. */
async function send(page, text) {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
  await expect(page.getByRole("log", { name: "Messages" }).getByText(text, { exact: true })).toBeVisible();
}

/** No serious or critical axe-core finding on the page as it is now. */
async function noSeriousA11yFindings(page) {
  const results = await new AxeBuilder({ page }).analyze();
  const grave = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(grave).toEqual([]);
}

/** Writes `docs/screenshots/NAME.png`. */
async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/**
 * A server, two apps and two browser pages, alice and bob registered on them; runs
 * `body({ server, alice, bob, aliceApp, bobApp })`, then stops everything whatever happened.
 */
async function withAliceAndBob(browser, body) {
  const server = await startServer();
  const aliceApp = await startApp();
  const bobApp = await startApp();
  try {
    const alice = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    await register(alice, aliceApp, server, "alice");
    await register(bob, bobApp, server, "bob");
    await body({ server, alice, bob, aliceApp, bobApp });
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
}


/** CRC-32 as PNG chunks carry it. */
function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A `width`×`height` RGB PNG of a sunset-like gradient. */
function png(width, height) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const at = row + 1 + x * 3;
      rows[at] = 255 - Math.floor((y / height) * 120);
      rows[at + 1] = Math.floor((x / width) * 140 + (y / height) * 60);
      rows[at + 2] = Math.floor((y / height) * 200);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

module.exports = { PLI, cli, freePort, noSeriousA11yFindings, png, register, screenshot, send, startApp, startChat, startServer, tempDir, withAliceAndBob };
