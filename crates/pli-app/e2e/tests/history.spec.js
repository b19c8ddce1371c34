// A long conversation: it opens on its newest page of 50, "Load older messages" prepends
// the rest in order and goes away when nothing older remains; each day starts with a
// separator. The conversation list's filter hides what does not match, even across a live
// refresh of the list.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

const COUNT = 60;
const PAGE = 50;

/** The classes of the log's children, in order (separators, messages, notices). */
function logItems(log) {
  return log.evaluate((el) => [...el.children].map((c) => c.className));
}

test("a long conversation opens on its newest 50 messages and loads the older ones", async ({ page }) => {
  const server = await h.startServer();
  const app = await h.startApp();
  const bobHome = h.tempDir("bob");
  try {
    await h.register(page, app, server, "alice");
    await h.cli(bobHome, "register", "bob", "--server", server.url);
    await h.startChat(page, "bob");

    // Sixty messages, one after the other, through the composer's own form action.
    const statuses = await page.evaluate(async (count) => {
      const form = document.getElementById("composer");
      const seen = [];
      for (let i = 1; i <= count; i++) {
        const response = await fetch(form.action, { method: "POST", body: new URLSearchParams({ text: `message ${i}` }) });
        seen.push(response.status === 200 ? 200 : `${response.status} ${response.headers.get("x-pli-error")} ${(await response.text()).match(/role="alert"[^>]*>([^<]*)/)?.[1]}`);
      }
      return seen;
    }, COUNT);
    expect(statuses).toEqual(Array(COUNT).fill(200));

    await page.reload();
    const log = page.getByRole("log", { name: "Messages" });
    const messages = log.locator(".msg");
    await expect(messages).toHaveCount(PAGE);
    await expect(messages.first().locator(".text")).toHaveText(`message ${COUNT - PAGE + 1}`);
    await expect(messages.last().locator(".text")).toHaveText(`message ${COUNT}`);
    await expect(log.getByText("message 1", { exact: true })).toHaveCount(0);

    // Day separators: every message says when it was stored; the day's first item has one.
    const at = Number(await messages.first().getAttribute("data-at"));
    expect(Math.abs(Date.now() - at)).toBeLessThan(60 * 60 * 1000);
    const separators = log.locator(".day[role=separator]");
    await expect(separators).toHaveCount(1);
    await expect(separators).toContainText(String(new Date(at).getFullYear()));
    let items = await logItems(log);
    expect(items[0]).toBe("day");
    expect(items[1]).toMatch(/^msg /);

    // Older messages: prepended in order, the separator moved before the oldest, no button.
    const older = page.getByRole("button", { name: "Load older messages" });
    await older.click();
    await expect(messages).toHaveCount(COUNT);
    await expect(older).toHaveCount(0);
    await expect(messages.first().locator(".text")).toHaveText("message 1");
    expect(await log.locator(".msg .text").allInnerTexts()).toEqual(Array.from({ length: COUNT }, (_, i) => `message ${i + 1}`));
    await expect(separators).toHaveCount(1);
    items = await logItems(log);
    expect(items[0]).toBe("day");
    expect(items.filter((c) => c === "day")).toHaveLength(1);

    // They were really sent: the recipient reads the first and the last.
    const received = await h.cli(bobHome, "sync");
    // Each line ends with the message's id, what a reply or reaction names.
    expect(received).toMatch(/@alice: message 1 +#[0-9a-f]{8}\n/);
    expect(received).toMatch(new RegExp(`@alice: message ${COUNT} +#[0-9a-f]{8}\n`));
  } finally {
    await app.stop();
    await server.stop();
  }
});

test("the conversation filter hides the entries that do not match, also after a live update", async ({ page }) => {
  const server = await h.startServer();
  const app = await h.startApp();
  const bobHome = h.tempDir("bob");
  const carolHome = h.tempDir("carol");
  try {
    await h.register(page, app, server, "alice");
    await h.cli(bobHome, "register", "bob", "--server", server.url);
    await h.cli(carolHome, "register", "carol", "--server", server.url);
    await h.startChat(page, "bob");
    await h.send(page, "hi bob");
    await h.startChat(page, "carol");
    await h.send(page, "hi carol");
    await page.getByRole("link", { name: "Chats", exact: true }).click();

    const entries = page.locator("#conversations li");
    const bob = entries.filter({ hasText: "@bob" });
    const carol = entries.filter({ hasText: "@carol" });
    await expect(entries).toHaveCount(2);
    const filter = page.getByRole("searchbox", { name: "Filter conversations" });
    await filter.fill("Carol");
    await expect(bob).toBeHidden();
    await expect(carol).toBeVisible();

    // A message from bob refreshes the list; the filter still applies to the new list.
    await h.cli(bobHome, "sync");
    await h.cli(bobHome, "send", "@alice", "are you there?");
    await expect(bob).toContainText("are you there?");
    await expect(bob).toBeHidden();
    await expect(carol).toBeVisible();

    await filter.fill("nobody");
    await expect(carol).toBeHidden();
    await filter.fill("");
    await expect(bob).toBeVisible();
    await expect(carol).toBeVisible();
  } finally {
    await app.stop();
    await server.stop();
  }
});
