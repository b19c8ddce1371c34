// Disappearing messages in pli app: a timer set in Chat settings reaches the other person
// as a notice and shows in the chat's header; a timed message says it disappears, and
// leaves both pages when its timer is over. The conversation's receipts switch is there too.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("a timer set in Chat settings reaches both sides, and a timed message leaves both pages", async ({ browser }) => {
  await h.withAliceAndBob(browser, async ({ server, alice, bob }) => {
    await h.startChat(bob, "alice");
    await h.send(bob, "before any timer");
    await alice.getByRole("link", { name: /@bob/ }).click();
    await expect(alice.getByRole("log", { name: "Messages" }).getByText("before any timer")).toBeVisible();

    // Bob sets 30 seconds in Chat settings: both sides see the notice and the header.
    await bob.getByRole("link", { name: "Chat settings" }).click();
    await expect(bob.getByRole("heading", { name: "Chat settings" })).toBeVisible();
    await h.noSeriousA11yFindings(bob);
    await h.screenshot(bob, "app-chat-settings");
    await bob.getByLabel("Delete messages after").selectOption({ label: "30 seconds" });
    await bob.getByRole("button", { name: "Save" }).first().click();
    await expect(bob.locator(".notice", { hasText: "You set disappearing messages to 30 seconds" })).toBeVisible();
    await expect(bob.locator(".timer-state")).toHaveText("⏱ 30 seconds");
    await expect(alice.locator(".notice", { hasText: "@bob set disappearing messages to 30 seconds" })).toBeVisible();
    await alice.reload();
    await expect(alice.locator(".timer-state")).toHaveText("⏱ 30 seconds");

    // A timed message, marked so on both sides; it goes when its 30 seconds are over.
    await h.send(alice, "this will vanish");
    const sent = alice.locator(".msg.out", { hasText: "this will vanish" });
    const got = bob.locator(".msg.in", { hasText: "this will vanish" });
    await expect(sent.locator(".expires")).toHaveText("⏱ disappears");
    await expect(got.locator(".expires")).toHaveText("⏱ disappears");
    await h.screenshot(bob, "app-disappearing");
    await expect(got).toHaveCount(0, { timeout: 40_000 });
    await expect(sent).toHaveCount(0, { timeout: 10_000 });
    // And not back after a reload: it left the database too.
    await bob.reload();
    const log = bob.getByRole("log", { name: "Messages" });
    await expect(log.getByText("before any timer")).toBeVisible();
    await expect(bob.getByText("this will vanish")).toHaveCount(0);

    // The chat's own receipts switch: off here, kept.
    await alice.getByRole("link", { name: "Chat settings" }).click();
    const box = alice.getByRole("checkbox", { name: "Send delivery and read receipts here" });
    await expect(box).toBeChecked();
    await box.uncheck();
    await alice.getByRole("button", { name: "Save" }).nth(1).click();
    await expect(alice.getByRole("checkbox", { name: "Send delivery and read receipts here" })).not.toBeChecked();
    // Off again for everyone, from the same page.
    await alice.getByLabel("Delete messages after").selectOption({ label: "Off" });
    await alice.getByRole("button", { name: "Save" }).first().click();
    await expect(alice.locator(".notice", { hasText: "You turned off disappearing messages" })).toBeVisible();
    await expect(alice.locator(".timer-state")).toHaveCount(0);
    await expect(bob.locator(".notice", { hasText: "@alice turned off disappearing messages" })).toBeVisible();
  });
});
