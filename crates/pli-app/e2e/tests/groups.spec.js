// A group of three, one member on the command line; the member list with devices and
// verification; the safety code compared and marked verified; what the server knows.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("a group of three with one member on the CLI, members and safety codes", async ({ browser }) => {
  const server = await h.startServer();
  const aliceApp = await h.startApp();
  const bobApp = await h.startApp();
  const carolHome = h.tempDir("carol");
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  try {
    await h.register(alice, aliceApp, server, "alice");
    await h.register(bob, bobApp, server, "bob");
    await h.cli(carolHome, "register", "carol", "--server", server.url);

    await alice.getByRole("link", { name: "New group" }).click();
    await alice.getByRole("textbox", { name: "Group name" }).fill("picnic");
    await alice.getByRole("textbox", { name: "Members" }).fill("bob, carol");
    await h.noSeriousA11yFindings(alice);
    await alice.getByRole("button", { name: "Create group" }).click();
    await expect(alice.getByRole("heading", { name: "picnic" })).toBeVisible();
    await h.send(alice, "who brings the bread?");

    // Bob sees the group arrive live; Carol reads it on the command line and answers.
    await bob.getByRole("link", { name: /picnic/ }).click();
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("who brings the bread?")).toBeVisible();
    expect(await h.cli(carolHome, "sync")).toContain("who brings the bread?");
    await h.cli(carolHome, "send", "picnic", "I will, from the CLI");
    await expect(alice.getByRole("log", { name: "Messages" }).getByText("I will, from the CLI")).toBeVisible();
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("I will, from the CLI")).toBeVisible();

    // The member list: each member's devices and whether alice verified them.
    await alice.getByRole("link", { name: "Members" }).click();
    const members = alice.locator(".members > li");
    await expect(members).toHaveCount(3);
    await expect(members.filter({ hasText: "@bob" })).toContainText("Not verified");
    await expect(members.filter({ hasText: "@carol" }).locator(".devices li")).toHaveCount(1);
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "members");

    // Safety code: the same on both sides; marked verified, it says so in the list.
    await alice.getByRole("link", { name: "Compare safety code with @bob" }).click();
    const aliceCode = await alice.getByLabel("Safety code", { exact: true }).innerText();
    await expect(alice.getByRole("img", { name: "Safety code as a QR code" })).toBeVisible();
    await bob.goto(`${bobApp.origin}/verify/alice`);
    expect(await bob.getByLabel("Safety code", { exact: true }).innerText()).toBe(aliceCode);
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "verify");
    await alice.getByRole("button", { name: "Mark as verified" }).click();
    await expect(alice.getByRole("status").filter({ hasText: "You verified @bob" })).toBeVisible();
    await alice.goBack();
    await alice.goBack();
    await alice.reload();
    await expect(alice.locator(".members > li").filter({ hasText: "@bob" })).toContainText("Verified");

    // Removing carol: she is no longer listed, and the group goes on without her.
    await alice.getByRole("button", { name: "Remove @carol" }).click();
    await expect(alice.locator(".members > li")).toHaveCount(2);
    await alice.getByRole("link", { name: /Back to picnic/ }).click();
    await bob.getByRole("link", { name: /picnic/ }).click();
    await h.send(alice, "bread is settled");
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("bread is settled")).toBeVisible();
    expect(await h.cli(carolHome, "sync")).not.toContain("bread is settled");
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
});

test("the inventory page shows what the server holds, as pli admin inventory prints it", async ({ page }) => {
  const server = await h.startServer();
  const app = await h.startApp();
  try {
    await h.register(page, app, server, "dora");
    await page.getByRole("link", { name: "What the server knows" }).click();
    // What staff see: the operator makes a legal reviewer, who prints the inventory.
    const staff = h.tempDir("staff");
    const operator = (await h.cli(staff, "admin", "init", "--data", server.data)).trim().split("\n").pop();
    const legal = `${staff}/legal.cred`;
    await h.cli(staff, "admin", "--cred", operator, "--server", server.url, "staff", "add", "lee", "--role", "legal", "--out", legal);
    const held = JSON.parse(await h.cli(staff, "admin", "--cred", legal, "--server", server.url, "inventory", "@dora", "--json"));
    // The user's own view, from the CLI on the same home, is the same record.
    expect(JSON.parse(await h.cli(app.home, "--json", "inventory"))).toEqual(held);
    const table = page.getByRole("table", { name: "Data inventory" });
    await expect(table).toContainText(`@${held.username}`);
    await expect(table).toContainText(held.home_region);
    await expect(table).toContainText(held.created_day);
    const devices = page.getByRole("table", { name: "Devices" }).locator("tbody tr");
    await expect(devices).toHaveCount(held.devices.length);
    for (const device of held.devices) {
      const row = page.locator(`tr[data-device="${device.device_id}"]`);
      await expect(row).toContainText(device.signature_key);
      await expect(row).toContainText(String(device.key_packages_available));
    }
    for (const item of held.not_held) await expect(page.locator(".not-held")).toContainText(item);
    await expect(page.locator(".policy")).toContainText("region");
    await h.noSeriousA11yFindings(page);
    await h.screenshot(page, "inventory");
  } finally {
    await app.stop();
    await server.stop();
  }
});
