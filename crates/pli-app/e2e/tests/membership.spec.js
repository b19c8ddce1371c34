// Changing who is in: a linked device that gets the history its user chose to copy; a
// linked device removed after its confirmation page; a member added
// to a group and a member leaving it, with the system lines the other members see; and
// the app stopping cleanly on Ctrl-C (SIGINT) as on SIGTERM.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("a linked device joins the conversations and gets the history chosen for it", async ({ browser }) => {
  const server = await h.startServer();
  const firstApp = await h.startApp();
  const secondApp = await h.startApp();
  const halHome = h.tempDir("hal");
  const first = await (await browser.newContext()).newPage();
  const second = await (await browser.newContext()).newPage();
  try {
    await h.register(first, firstApp, server, "gina");
    await h.cli(halHome, "register", "hal", "--server", server.url);
    await h.startChat(first, "hal");
    await h.send(first, "said before the new device");
    await h.cli(halHome, "sync");
    await h.cli(halHome, "send", "@gina", "hal's answer, also before");
    await expect(first.getByRole("log", { name: "Messages" }).getByText("hal's answer, also before")).toBeVisible();

    await second.goto(secondApp.url);
    await second.getByRole("link", { name: "Link this computer to your account" }).click();
    await second.getByRole("textbox", { name: "Server" }).fill(server.url);
    await second.getByRole("textbox", { name: "Username" }).fill("gina");
    await second.getByRole("button", { name: "Link this device" }).click();
    const code = (await second.locator("#link-code").innerText()).trim();
    await first.getByRole("link", { name: "Devices" }).click();
    await first.getByRole("textbox", { name: "Link code" }).fill(code);
    const choice = first.getByRole("group", { name: "Earlier messages" });
    await expect(choice.getByRole("radio", { name: /Don’t copy them/ })).toBeChecked();
    await expect(choice).toContainText("the server relays it and cannot read it");
    await choice.getByRole("radio", { name: "Copy all of them" }).check();
    await h.noSeriousA11yFindings(first);
    await h.screenshot(first, "app-link-history");
    await first.getByRole("button", { name: "Approve" }).click();
    await expect(first.getByText("then it copies all earlier messages to it")).toBeVisible();

    // The new device is added to the chat and shows what came before, in order.
    await expect(second.getByRole("button", { name: "New chat" })).toBeVisible({ timeout: 40_000 });
    const chat = second.getByRole("link", { name: /hal/ }).first();
    await expect(chat).toBeVisible({ timeout: 40_000 });
    await chat.click();
    const texts = second.getByRole("log", { name: "Messages" }).locator(".msg .text");
    await expect(texts).toHaveText(["said before the new device", "hal's answer, also before"], { timeout: 40_000 });
    await expect(second.getByText("your other device added this one to the conversation")).toBeVisible();
    await h.screenshot(second, "app-link-history-copied");
  } finally {
    await Promise.all([firstApp.stop(), secondApp.stop()]);
  }
});

test("a linked device removed through its confirmation page", async ({ browser }) => {
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
    await first.getByRole("link", { name: "Devices" }).click();
    await first.getByRole("textbox", { name: "Link code" }).fill(code);
    await first.getByRole("button", { name: "Approve" }).click();
    const devices = first.locator(".devices li");
    await expect(devices).toHaveCount(2);
    await expect(second.getByRole("button", { name: "New chat" })).toBeVisible({ timeout: 40_000 });

    // Only the other device is offered for removal, and only after a confirmation.
    const other = await devices.filter({ hasNot: first.locator(".badge") }).getAttribute("data-device");
    const mine = await devices.filter({ has: first.locator(".badge") }).getAttribute("data-device");
    const removeLinks = first.getByRole("link", { name: /^Remove device / });
    await expect(removeLinks).toHaveText([`Remove device ${other}`]);
    await removeLinks.click();
    await expect(first.getByRole("heading", { name: `Remove device ${other}?` })).toBeVisible();
    await h.noSeriousA11yFindings(first);
    await first.getByRole("button", { name: `Remove device ${other}` }).click();

    await expect(first).toHaveURL(`${firstApp.origin}/devices`);
    await expect(devices).toHaveCount(1);
    await expect(devices).toHaveAttribute("data-device", mine);
    await expect(removeLinks).toHaveCount(0);
    const held = JSON.parse(await h.cli(firstApp.home, "--json", "inventory"));
    expect(held.devices.map((d) => String(d.device_id))).toEqual([mine]);

    // Settings, one more screen for axe-core.
    await first.getByRole("link", { name: "Settings", exact: true }).click();
    await expect(first.getByRole("heading", { name: "Settings" })).toBeVisible();
    await h.noSeriousA11yFindings(first);
  } finally {
    await Promise.all([firstApp.stop(), secondApp.stop()]);
    await server.stop();
  }
});

test("a member added on the member page, a member who leaves, and the notices others see", async ({ browser }) => {
  const server = await h.startServer();
  const aliceApp = await h.startApp();
  const bobApp = await h.startApp();
  const carolHome = h.tempDir("carol");
  const daveHome = h.tempDir("dave");
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  try {
    await h.register(alice, aliceApp, server, "alice");
    await h.register(bob, bobApp, server, "bob");
    await h.cli(carolHome, "register", "carol", "--server", server.url);
    await h.cli(daveHome, "register", "dave", "--server", server.url);

    await alice.getByRole("link", { name: "New group" }).click();
    await alice.getByRole("textbox", { name: "Group name" }).fill("picnic");
    await alice.getByRole("textbox", { name: "Members" }).fill("bob carol");
    await alice.getByRole("button", { name: "Create group" }).click();
    await h.send(alice, "who brings the bread?");
    await bob.getByRole("link", { name: /picnic/ }).click();
    const bobLog = bob.getByRole("log", { name: "Messages" });
    await expect(bobLog.getByText("who brings the bread?")).toBeVisible();

    // Alice adds dave: he is listed, and he reads what is sent after.
    await alice.getByRole("link", { name: "Members" }).click();
    await alice.getByRole("textbox", { name: "Add a member" }).fill("dave");
    await alice.getByRole("button", { name: "Add", exact: true }).click();
    const members = alice.locator(".members > li");
    await expect(members).toHaveCount(4);
    await expect(members.filter({ hasText: "@dave" })).toBeVisible();
    await expect(alice.getByRole("textbox", { name: "Add a member" })).toHaveValue("");

    // Bob, another member, sees it as a system line in the open chat, live.
    await expect(bobLog.locator(".notice").filter({ hasText: "@dave" })).toHaveText("@alice added @dave");
    await alice.getByRole("link", { name: /Back to picnic/ }).click();
    await h.send(alice, "welcome dave");
    expect(await h.cli(daveHome, "sync")).toContain("@alice: welcome dave");

    // Alice removes carol: again a system line for bob.
    await alice.getByRole("link", { name: "Members" }).click();
    await alice.getByRole("button", { name: "Remove @carol" }).click();
    await expect(members).toHaveCount(3);
    await expect(bobLog.locator(".notice").filter({ hasText: "@carol" })).toHaveText("@alice removed @carol");

    // Bob leaves: his composer is disabled, with the reason; the group is marked left.
    await bob.getByRole("link", { name: "Members" }).click();
    await bob.getByRole("button", { name: "Leave this group" }).click();
    await expect(bob.getByRole("heading", { name: "picnic" })).toBeVisible();
    await expect(bob.getByRole("textbox", { name: "Message" })).toBeDisabled();
    await expect(bob.getByRole("button", { name: "Send", exact: true })).toBeDisabled();
    await expect(bob.locator(".blocked")).toContainText("no longer a member");
    await expect(bob.getByRole("link", { name: /picnic/ })).toContainText("(left)");

    // Alice's app commits his leaving: her member list no longer has him. The others are
    // told he left (not that alice removed him), and so is he.
    await expect
      .poll(async () => {
        await alice.reload();
        return alice.locator(".members > li h3").allInnerTexts();
      })
      .toEqual([expect.stringMatching(/^@alice/), expect.stringMatching(/^@dave/)]);
    expect(await h.cli(daveHome, "sync")).toContain("@bob left the conversation");
    await expect(bobLog.locator(".notice").last()).toHaveText("you left the conversation");
    await bob.getByRole("link", { name: "Members" }).click();
    await expect(bob.getByRole("button", { name: "Leave this group" })).toHaveCount(0);
    await expect(bob.getByRole("textbox", { name: "Add a member" })).toHaveCount(0);
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
});

test("the app stops with exit code 0 on SIGINT, and frees its home for the next one", async ({ page }) => {
  const app = await h.startApp();
  let again = null;
  try {
    await page.goto(app.url);
    await expect(page.getByRole("button", { name: "Register" })).toBeVisible();
    // The page holds the live-updates stream open; Ctrl-C still ends the app at once.
    expect(await app.stop("SIGINT")).toBe(0);
    again = await h.startApp(app.home);
    await page.goto(again.url);
    await expect(page.getByRole("button", { name: "Register" })).toBeVisible();
  } finally {
    await app.stop();
    if (again) expect(await again.stop("SIGINT")).toBe(0);
  }
});
