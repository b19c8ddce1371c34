// Keyboard only: from the main view to a new chat and a sent message without the mouse.
// Desktop notifications: off unless turned on in Settings, shown only while pli is not in
// front, naming the conversation and never the message.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("keyboard only: New chat, a username, Enter, a message, Enter", async ({ page }) => {
  const server = await h.startServer();
  const app = await h.startApp();
  const bobHome = h.tempDir("bob");
  try {
    await h.cli(bobHome, "register", "bob", "--server", server.url);
    await h.register(page, app, server, "alice");
    await page.reload();

    // The first stop is the skip link; then on through the top bar to New chat.
    await page.keyboard.press("Tab");
    await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
    const newChat = page.getByRole("button", { name: "New chat" });
    for (let i = 0; i < 20 && !(await newChat.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press("Tab");
    }
    await expect(newChat).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(newChat).toHaveAttribute("aria-expanded", "true");
    const username = page.getByRole("textbox", { name: "Username" });
    await expect(username).toBeFocused();
    await page.keyboard.type("bob");
    await page.keyboard.press("Enter");

    // The chat opens with the composer focused: type, Enter sends.
    await expect(page.getByRole("heading", { name: "@bob" })).toBeVisible();
    const box = page.getByRole("textbox", { name: "Message" });
    await expect(box).toBeFocused();
    await page.keyboard.type("typed without a mouse");
    await page.keyboard.press("Enter");
    const log = page.getByRole("log", { name: "Messages" });
    await expect(log.locator(".msg.out .text")).toHaveText(["typed without a mouse"]);
    await expect(box).toHaveValue("");
    await expect(box).toBeFocused();
    expect(await h.cli(bobHome, "sync")).toContain("@alice: typed without a mouse");
  } finally {
    await app.stop();
    await server.stop();
  }
});

// Records each notification the page constructs (the real one is still made), and whether
// the live updates' stream is open: browser objects only, none of the app's own code.
function recordNotifications() {
  const Real = window.Notification;
  window.__shown = [];
  class Recorded extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__shown.push({ title, body: options.body ?? "" });
    }
    static get permission() {
      return Real.permission;
    }
    static requestPermission(...args) {
      return Real.requestPermission(...args);
    }
  }
  window.Notification = Recorded;
  window.__live = false;
  const RealSource = window.EventSource;
  window.EventSource = class extends RealSource {
    constructor(...args) {
      super(...args);
      this.addEventListener("open", () => {
        window.__live = true;
      });
    }
  };
}

/** The main view, its live stream open, with the window blurred (or focused). */
async function mainView(page, { focused }) {
  await page.getByRole("link", { name: "Chats", exact: true }).click();
  await expect(page.getByRole("link", { name: /@bob/ })).toBeVisible();
  await page.waitForFunction(() => window.__live);
  await page.evaluate((focus) => window.dispatchEvent(new Event(focus ? "focus" : "blur")), focused);
}

/** Bob sends `text` from the command line; alice's list shows it (so her page handled it). */
async function bobSends(page, bobHome, text) {
  await h.cli(bobHome, "send", "@alice", text);
  await expect(page.getByRole("link", { name: /@bob/ })).toContainText(text);
}

const shown = (page) => page.evaluate(() => window.__shown);

test("desktop notifications: only when turned on and pli is not in front, without the text", async ({ browser }) => {
  const server = await h.startServer();
  const app = await h.startApp();
  const bobHome = h.tempDir("bob");
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"], { origin: app.origin });
  await context.addInitScript(recordNotifications);
  const page = await context.newPage();
  try {
    await h.cli(bobHome, "register", "bob", "--server", server.url);
    await h.register(page, app, server, "alice");
    await h.startChat(page, "bob");
    await h.send(page, "hello bob");
    await h.cli(bobHome, "sync");
    expect(await page.evaluate(() => Notification.permission)).toBe("granted");

    // Off by default: blurred, a message comes, nothing is shown.
    await mainView(page, { focused: false });
    await bobSends(page, bobHome, "first secret");
    expect(await shown(page)).toEqual([]);

    // Turned on in Settings (kept in this browser's storage).
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    const toggle = page.getByRole("checkbox", { name: "Show desktop notifications" });
    await expect(toggle).not.toBeChecked();
    await toggle.check();
    await expect(page.locator("#notify-state")).toHaveText("Notifications are on.");
    expect(await page.evaluate(() => localStorage.getItem("pli.notify"))).toBe("on");
    await h.noSeriousA11yFindings(page);
    await h.screenshot(page, "settings");
    await page.reload();
    await expect(toggle).toBeChecked();

    // Not in front: one notification, naming the conversation, not what was written.
    await mainView(page, { focused: false });
    await bobSends(page, bobHome, "second secret");
    await expect.poll(() => shown(page)).toHaveLength(1);
    const [note] = await shown(page);
    expect(note.title).toBe("pli");
    expect(note.body).toContain("@bob");
    expect(JSON.stringify(note)).not.toContain("secret");

    // In front again: nothing more.
    await page.evaluate(() => window.dispatchEvent(new Event("focus")));
    await bobSends(page, bobHome, "third secret");
    expect(await shown(page)).toHaveLength(1);

    // Turned off: nothing, even when not in front.
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    await toggle.uncheck();
    await expect(page.locator("#notify-state")).toHaveText("Notifications are off.");
    await mainView(page, { focused: false });
    await bobSends(page, bobHome, "fourth secret");
    expect(await shown(page)).toEqual([]);
  } finally {
    await context.close();
    await app.stop();
    await server.stop();
  }
});
