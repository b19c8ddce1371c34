// Two people, each in their own pli app, chat 1:1: messages arrive live, Enter sends and
// Shift+Enter adds a line, search finds an old message, and every screen passes axe-core.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("two users register in two apps and chat live", async ({ browser }) => {
  const server = await h.startServer();
  const aliceApp = await h.startApp();
  const bobApp = await h.startApp();
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  try {
    await alice.goto(aliceApp.url);
    await expect(alice.getByRole("button", { name: "Register" })).toBeVisible();
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "onboarding");

    // Entering a server lists its regions, each policy in plain words.
    await alice.getByRole("textbox", { name: "Server" }).fill(server.url);
    await alice.getByRole("textbox", { name: "Server" }).press("Tab");
    const region = alice.getByRole("combobox", { name: "Region" });
    await expect(region.locator("option")).toHaveText(["default (default)"]);
    await expect(alice.locator("#region-words")).toContainText("days");

    await h.register(alice, aliceApp, server, "alice");
    await h.register(bob, bobApp, server, "bob");
    await h.startChat(alice, "bob");
    await h.send(alice, "hello bob");

    // Bob's list shows the new conversation without a reload.
    const entry = bob.getByRole("link", { name: /@alice/ });
    await expect(entry).toBeVisible();
    await expect(entry).toContainText("hello bob");
    await entry.click();
    const bobLog = bob.getByRole("log", { name: "Messages" });
    await expect(bobLog.getByText("hello bob")).toBeVisible();

    // Live both ways, with the page open; Shift+Enter adds a line, Enter sends.
    const box = bob.getByRole("textbox", { name: "Message" });
    await box.fill("hi alice");
    await box.press("Shift+Enter");
    await box.pressSequentially("second line");
    await expect(box).toHaveValue("hi alice\nsecond line");
    await box.press("Enter");
    await expect(box).toHaveValue("");
    const aliceLog = alice.getByRole("log", { name: "Messages" });
    await expect(aliceLog.getByText("second line")).toBeVisible();
    await expect(aliceLog.locator(".msg.in .text").last()).toHaveText("hi alice\nsecond line");
    // Each own message says where it is.
    await expect(alice.locator(".msg.out").last().locator("[data-state]")).toHaveAttribute("data-state", "sent");

    for (let i = 1; i <= 3; i++) await h.send(alice, `note ${i} about the picnic`);
    await expect(bobLog.getByText("note 3 about the picnic")).toBeVisible();
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "chat");

    // Search finds an old message, and leads to its conversation.
    await alice.getByRole("link", { name: "Search" }).click();
    await alice.getByRole("searchbox", { name: "Search" }).fill("hello");
    await alice.getByRole("button", { name: "Search" }).click();
    await expect(alice.getByRole("status").filter({ hasText: "found" })).toHaveText("1 message found");
    await expect(alice.locator(".results")).toContainText("hello bob");
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "search");

    // The same at phone width, and in the dark.
    await bob.setViewportSize({ width: 360, height: 740 });
    await bob.emulateMedia({ colorScheme: "dark" });
    await bob.reload();
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("note 3 about the picnic")).toBeVisible();
    await h.noSeriousA11yFindings(bob);
    await h.screenshot(bob, "chat-phone-dark");
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
});

test("the app stops cleanly on SIGTERM and a spent or missing token opens nothing", async ({ page }) => {
  const app = await h.startApp();
  try {
    await page.goto(app.url);
    await expect(page.getByRole("button", { name: "Register" })).toBeVisible();
    const again = await page.context().newPage();
    const context = await page.context().browser().newContext();
    const stranger = await context.newPage();
    const response = await stranger.goto(app.url);
    expect(response.status()).toBe(401);
    await expect(stranger.getByRole("alert")).toHaveAttribute("data-code", "token_spent");
    const home = await stranger.goto(`${app.origin}/`);
    expect(home.status()).toBe(401);
    await again.close();
  } finally {
    expect(await app.stop()).toBe(0);
  }
});
