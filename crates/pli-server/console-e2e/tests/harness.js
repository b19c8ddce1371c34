// What every console test starts: a real `pli serve` (embedded SQLite) with its admin API
// and console on a listener of their own, the first operator from `pli admin init`, staff
// added with `pli admin staff add`; and the helpers that sign in (computing TOTP codes as
// an authenticator app does), check accessibility with axe-core and write screenshots.
const { spawn, execFile } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const { expect } = require("@playwright/test");
const AxeBuilder = require("@axe-core/playwright").default;

const ROOT = path.resolve(__dirname, "../../../..");
const PLI = process.env.PLI_BIN || path.join(ROOT, "target/debug/pli");
const SCREENSHOTS = path.join(ROOT, "docs/screenshots");

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pli-console-${name}-`));
}

function run(args) {
  return new Promise((resolve, reject) => {
    execFile(PLI, args, { encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pli ${args.join(" ")}: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** `pli serve` with `--admin-listen`; resolves once it printed its admin address. */
async function startServer() {
  const data = tempDir("server");
  const operatorFile = await run(["admin", "init", "--data", data]);
  const child = spawn(
    PLI,
    ["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--pow-difficulty", "4", "--log", "warn", "--data", data],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const seen = [];
  const admin = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stderr });
    lines.on("line", (line) => {
      seen.push(line);
      const match = line.match(/pli admin API on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`pli serve exited with ${code}:\n${seen.join("\n")}`)));
  });
  child.stderr.resume();
  const operator = JSON.parse(fs.readFileSync(operatorFile, "utf8"));
  const server = {
    admin,
    data,
    operator,
    operatorFile,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
  return server;
}

/** `pli admin staff add`: the new member's credential. */
async function addStaff(server, name, role) {
  const out = path.join(server.data, `${name}.cred`);
  await run(["admin", "--cred", server.operatorFile, "--server", server.admin, "staff", "add", name, "--role", role, "--out", out]);
  return JSON.parse(fs.readFileSync(out, "utf8"));
}

/** RFC 4648 base32, as the enrolment page shows the secret. */
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
function totp(secret, timeMs = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / 1000 / 30)));
  const mac = crypto.createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

/** Fills and sends the sign-in form. */
async function submitSignIn(page, server, credential, code = "") {
  await page.goto(`${server.admin}/console/signin`);
  await page.getByLabel("Staff id").fill(String(credential.staff_id));
  await page.getByLabel("Secret").fill(credential.secret);
  if (code) await page.getByLabel("Six-digit code").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A first sign-in: the credential, then enrolment with the app's current code. Returns
 * the base32 secret. `beforeConfirm` runs on the enrolment page (screenshots). */
async function enrol(page, server, credential, beforeConfirm) {
  await submitSignIn(page, server, credential);
  await expect(page.getByRole("heading", { name: "Enrol your second factor" })).toBeVisible();
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  if (beforeConfirm) await beforeConfirm(secret);
  await page.getByLabel("Six-digit code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Confirm and sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  return secret;
}

/** No axe-core finding at all on the page as it is now. */
async function noA11yFindings(page) {
  const results = await new AxeBuilder({ page }).analyze();
  const found = results.violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(found).toEqual([]);
}

/** Writes `docs/screenshots/console-NAME.png`. */
async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
}

module.exports = { addStaff, enrol, noA11yFindings, screenshot, startServer, submitSignIn, totp };
