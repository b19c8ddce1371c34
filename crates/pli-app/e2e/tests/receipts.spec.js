// Delivery and read receipts in pli app: a message the other person has open shows "Read"
// on the sender's side, live; receipts are switched off (and on) in Settings.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("a message read by the other person says so, and receipts switch off in Settings", async ({ browser }) => {
  await h.withAliceAndBob(browser, async ({ server, alice, bob }) => {
    await h.startChat(bob, "alice");
    await h.send(bob, "hello alice");
    await alice.getByRole("link", { name: /@bob/ }).click();
    await expect(alice.getByRole("log", { name: "Messages" }).getByText("hello alice")).toBeVisible();
    // Alice read it with the conversation open: bob's message says so.
    const mine = bob.locator(".msg.out", { hasText: "hello alice" });
    await expect(mine.locator("[data-receipt]")).toHaveAttribute("data-receipt", "read");
    await expect(mine.locator("[data-receipt]")).toHaveText("Read");
    await expect(mine.locator("[data-state]")).toHaveAttribute("data-state", "sent");
    await h.screenshot(bob, "app-read-receipt");

    // Alice switches receipts off; the choice stays.
    await alice.getByRole("link", { name: "Settings", exact: true }).click();
    const box = alice.getByRole("checkbox", { name: "Send delivery and read receipts" });
    await expect(box).toBeChecked();
    await box.uncheck();
    await alice.getByRole("button", { name: "Save", exact: true }).click();
    await expect(alice.getByRole("checkbox", { name: "Send delivery and read receipts" })).not.toBeChecked();
    await h.noSeriousA11yFindings(alice);
  });
});
