// Profiles in pli app: alice sets a display name and a picture in Settings; bob's chat
// shows them beside her username (never instead of it), and the picture is this device's
// copy; removing the profile takes the name away on bob's side too.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("a display name and picture show beside the username, and go when removed", async ({ browser }) => {
  await h.withAliceAndBob(browser, async ({ alice, bob }) => {
    await h.startChat(bob, "alice");
    await h.send(bob, "who is this?");
    await alice.getByRole("link", { name: /@bob/ }).click();
    await expect(alice.getByRole("log", { name: "Messages" }).getByText("who is this?")).toBeVisible();

    // Alice sets her profile in Settings.
    const picture = path.join(h.tempDir("files"), "me.png");
    fs.writeFileSync(picture, h.png(480, 480));
    await alice.getByRole("link", { name: "Settings", exact: true }).click();
    await alice.getByRole("textbox", { name: "Display name" }).fill("Alice Liddell");
    await alice.getByLabel("Picture (PNG or JPEG, optional)").setInputFiles(picture);
    await alice.getByRole("button", { name: "Save profile" }).click();
    const now = alice.locator(".profile-now");
    await expect(now).toContainText("Alice Liddell");
    await expect(now).toContainText("@alice");
    await expect.poll(() => now.locator("img").evaluate((img) => img.complete && img.naturalWidth)).toBe(128);
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "app-profile-settings");

    // What the server knows: an encrypted profile, by size only.
    await alice.getByRole("link", { name: "What the server knows" }).click();
    const held = alice.getByRole("table", { name: "Data inventory" }).getByRole("row", { name: /Your profile/ });
    await expect(held).toContainText(/\d+(\.\d)? (B|KiB) \(your name and picture, encrypted; unreadable to the server\)/);

    await alice.getByRole("link", { name: "Chats", exact: true }).click();
    await alice.getByRole("link", { name: /@bob/ }).click();
    await h.send(alice, "it's me, with a name now");

    // Bob sees the name and picture beside @alice once his device opened the profile.
    const got = bob.locator(".msg.in", { hasText: "it's me, with a name now" });
    await expect(got).toBeVisible();
    await expect(async () => {
      await bob.reload();
      const who = bob.locator(".msg.in", { hasText: "it's me, with a name now" }).locator(".who");
      await expect(who.locator(".display-name")).toHaveText("Alice Liddell", { timeout: 1000 });
    }).toPass();
    const who = bob.locator(".msg.in", { hasText: "it's me, with a name now" }).locator(".who");
    await expect(who.locator(".username")).toHaveText("@alice");
    await expect.poll(() => who.locator("img.avatar").evaluate((img) => img.complete && img.naturalWidth)).toBe(128);
    // The conversation list names her too, with her username.
    const entry = bob.locator(".conversation .name");
    await expect(entry).toHaveText("Alice Liddell @alice");
    await h.screenshot(bob, "app-profile-chat");

    // A name that is not a username's is not an avatar path: nothing is served.
    const origin = new URL(bob.url()).origin;
    expect((await bob.request.get(`${origin}/avatars/nobody`)).status()).toBe(404);

    // Alice removes it: bob's side shows the username alone again.
    await alice.getByRole("link", { name: "Settings", exact: true }).click();
    await alice.getByRole("button", { name: "Remove profile" }).click();
    await expect(alice.locator(".profile-now")).toHaveCount(0);
    await alice.getByRole("link", { name: "What the server knows" }).click();
    await expect(alice.getByRole("row", { name: /Your profile/ })).toContainText("none stored");
    await alice.getByRole("link", { name: "Chats", exact: true }).click();
    await alice.getByRole("link", { name: /@bob/ }).click();
    await h.send(alice, "nameless again");
    await expect(bob.locator(".msg.in", { hasText: "nameless again" })).toBeVisible();
    await expect(async () => {
      await bob.reload();
      await expect(bob.locator(".msg.in .display-name")).toHaveCount(0, { timeout: 1000 });
    }).toPass();
    await expect(bob.locator(".conversation .name")).toHaveText("@alice");
  });
});
