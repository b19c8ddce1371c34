// Offline and back (the recipient's app stopped, then the server itself), a second device
// linked with a code, and a server that adds a device nobody added.
const { test, expect } = require("@playwright/test");
const { execFileSync } = require("node:child_process");
const path = require("node:path");
const h = require("./harness");

test("a recipient offline then back, and a sender whose server went away", async ({ browser }) => {
  const port = await h.freePort();
  let server = await h.startServer({ port });
  const aliceApp = await h.startApp();
  let bobApp = await h.startApp();
  const alice = await (await browser.newContext()).newPage();
  const bobContext = await browser.newContext();
  let bob = await bobContext.newPage();
  try {
    await h.register(alice, aliceApp, server, "alice");
    await h.register(bob, bobApp, server, "bob");
    await h.startChat(alice, "bob");
    await h.send(alice, "first");

    // Bob's app is closed; the message waits on the server, then arrives when it is back.
    await bobApp.stop();
    await h.send(alice, "while you were away");
    bobApp = await h.startApp(bobApp.home);
    bob = await (await browser.newContext()).newPage();
    await bob.goto(bobApp.url);
    await bob.getByRole("link", { name: /@alice/ }).click();
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("while you were away")).toBeVisible();

    // The server goes away: alice's message is queued, and says so; back, it goes out.
    await server.stop();
    await expect(alice.locator("#status")).toHaveAttribute("data-status", "offline");
    const box = alice.getByRole("textbox", { name: "Message" });
    await box.fill("sent while offline");
    await box.press("Enter");
    const queued = alice.locator(".msg.out").filter({ hasText: "sent while offline" });
    await expect(queued.locator("[data-state]")).toHaveAttribute("data-state", "queued");
    await h.screenshot(alice, "offline-queued");
    server = await h.startServer({ port, data: server.data });
    await expect(queued.locator("[data-state]")).toHaveAttribute("data-state", "sent", { timeout: 40_000 });
    await expect(alice.locator("#status")).toHaveAttribute("data-status", "online");
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("sent while offline")).toBeVisible({ timeout: 40_000 });
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
});

test("a second device linked with a code", async ({ browser }) => {
  const server = await h.startServer();
  const firstApp = await h.startApp();
  const secondApp = await h.startApp();
  const first = await (await browser.newContext()).newPage();
  const second = await (await browser.newContext()).newPage();
  try {
    await h.register(first, firstApp, server, "erin");
    await second.goto(secondApp.url);
    await second.getByRole("link", { name: "Link this computer to your account" }).click();
    await second.getByRole("textbox", { name: "Server" }).fill(server.url);
    await second.getByRole("textbox", { name: "Username" }).fill("erin");
    await second.getByRole("button", { name: "Link this device" }).click();
    const code = (await second.locator("#link-code").innerText()).trim();
    expect(code).toMatch(/^pli-link-1:/);
    await expect(second.getByRole("img", { name: "Link code as a QR code" })).toBeVisible();
    await h.noSeriousA11yFindings(second);
    await h.screenshot(second, "link-code");

    await first.getByRole("link", { name: "Devices" }).click();
    await first.getByRole("textbox", { name: "Link code" }).fill(code);
    await first.getByRole("button", { name: "Approve" }).click();
    await expect(first.getByRole("status").filter({ hasText: "was added" })).toBeVisible();
    await expect(first.locator(".devices li")).toHaveCount(2);
    await h.noSeriousA11yFindings(first);
    await h.screenshot(first, "devices");

    // The new device moves on by itself once approved, and knows the account.
    await expect(second.getByRole("button", { name: "New chat" })).toBeVisible({ timeout: 40_000 });
    await expect(second.locator(".me")).toHaveText("@erin");
  } finally {
    await Promise.all([firstApp.stop(), secondApp.stop()]);
    await server.stop();
  }
});

test("a device the server added that nobody added: the alert shows and sending is paused", async ({ browser }) => {
  const server = await h.startServer();
  const aliceApp = await h.startApp();
  const bobApp = await h.startApp();
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  try {
    await h.register(alice, aliceApp, server, "alice");
    await h.register(bob, bobApp, server, "bob");
    await h.startChat(alice, "bob");
    await h.send(alice, "before the ghost");

    // The operator slips a device of its own into alice's account, and publishes it.
    const ghostKey = "5866666666666666666666666666666666666666666666666666666666666666";
    execFileSync("python3", ["-c", `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("INSERT INTO devices (device_id, username, secret_hash, signature_key) VALUES (4242, 'alice', ?, ?)", (bytes(32), bytes.fromhex(sys.argv[2])))
db.execute("INSERT INTO kt_changes (username) VALUES ('alice')")
db.commit()
`, path.join(server.data, "pli.db"), ghostKey]);

    // Alice's next sync (after any action) finds it: the alert is in view, the composer blocked.
    await alice.getByRole("link", { name: "Devices" }).click();
    const alert = alice.getByRole("alert").filter({ hasText: "none of your devices added" });
    await expect(alert).toBeVisible({ timeout: 40_000 });
    await expect(alert).toContainText("4242");
    await alice.getByRole("link", { name: /@bob/ }).click();
    await expect(alice.getByRole("textbox", { name: "Message" })).toBeDisabled();
    await expect(alice.getByRole("button", { name: "Send", exact: true })).toBeDisabled();
    await expect(alice.locator(".blocked")).toContainText("Sending is paused");
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "alert-ghost-device");

    // Once alice has read it and acknowledged, she may send again.
    await alice.getByRole("button", { name: "I understand" }).click();
    await alice.getByRole("link", { name: /@bob/ }).click();
    await expect(alice.getByRole("textbox", { name: "Message" })).toBeEnabled();
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
});
