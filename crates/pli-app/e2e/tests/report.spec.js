// Reporting and blocking: a received message reported for spam with "also block", the
// confirmation and the blocked conversation (composer closed); the report as trust &
// safety read it with `pli admin reports`; the same message reported twice; bad input;
// blocking through its confirmation page, and unblocking; offline, a report that fails
// (it is never queued) and goes once the server is back.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

/** Posts a report form from `page` (same origin, as the form would) and answers its error code. */
async function postReport(page, conversation, fields) {
  return page.evaluate(
    async ({ conversation, fields }) => {
      const response = await fetch(`/c/${conversation}/report`, { method: "POST", body: new URLSearchParams(fields) });
      return { status: response.status, code: response.headers.get("x-pli-error") };
    },
    { conversation, fields },
  );
}

test("a received message reported with a block, as trust & safety see it", async ({ browser }) => {
  const server = await h.startServer();
  const aliceApp = await h.startApp();
  const bobApp = await h.startApp();
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  try {
    await h.register(alice, aliceApp, server, "alice");
    await h.register(bob, bobApp, server, "bob");
    await h.startChat(bob, "alice");
    const spam = "cheap watches at watches.example, today only";
    await h.send(bob, spam);

    await alice.getByRole("link", { name: /@bob/ }).click();
    const log = alice.getByRole("log", { name: "Messages" });
    const received = log.locator(".msg.in", { hasText: spam });
    await expect(received).toBeVisible();
    const conversation = await alice.locator("section.chat").getAttribute("data-conversation");
    const localId = await received.getAttribute("data-id");
    // Only what was received can be reported.
    await h.send(alice, "who is this?");
    await expect(log.locator(".msg.out .report")).toHaveCount(0);

    // Bad input is refused with its own code, and nothing is filed.
    expect(await postReport(alice, conversation, { message: localId, reason: "boring" })).toEqual({ status: 400, code: "unknown_reason" });
    expect(await postReport(alice, conversation, { message: localId, reason: "spam", note: "x".repeat(2001) })).toEqual({ status: 400, code: "note_too_long" });
    const ownId = await log.locator(".msg.out").last().getAttribute("data-id");
    expect(await postReport(alice, conversation, { message: ownId, reason: "spam" })).toEqual({ status: 400, code: "unknown_message" });

    // The form opens from the message itself.
    await received.locator("summary", { hasText: "More" }).click();
    await received.locator("summary", { hasText: "Report" }).click();
    const form = received.locator("form.report-form");
    await form.getByLabel("Spam or a scam").check();
    await form.getByLabel("Note (optional)").fill("I never gave this number out");
    await form.getByLabel("Also block @bob").check();
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "app-report");
    await form.getByRole("button", { name: "Send report" }).click();

    const done = alice.getByRole("status").filter({ hasText: "Reported to the server's trust & safety." });
    await expect(done).toContainText("They see only this message.");
    await expect(done).toContainText("You blocked @bob too.");
    await expect(alice.locator(".blocked-state")).toContainText("You blocked @bob.");
    await expect(alice.getByRole("button", { name: "Unblock @bob" })).toBeVisible();
    await expect(alice.getByRole("link", { name: "Block @bob" })).toHaveCount(0);
    await expect(alice.getByRole("textbox", { name: "Message" })).toBeDisabled();
    await expect(alice.getByRole("button", { name: "Send", exact: true })).toBeDisabled();
    await expect(alice.locator('#composer [data-code="blocked"]')).toContainText("Unblock them to write again");
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "app-blocked");

    // Trust & safety read it: the one message, verified, with the note; nothing else.
    const staff = h.tempDir("staff");
    const operator = (await h.cli(staff, "admin", "init", "--data", server.data)).trim().split("\n").pop();
    const tns = `${staff}/tns.cred`;
    await h.cli(staff, "admin", "--cred", operator, "--server", server.url, "staff", "add", "tess", "--role", "trust-safety", "--out", tns);
    const reports = JSON.parse(await h.cli(staff, "--json", "admin", "--cred", tns, "--server", server.url, "reports", "list"));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ reported: "bob", reporter: "alice", reason: "spam", note: "I never gave this number out" });
    expect(reports[0].messages.map((m) => m.text)).toEqual([spam]);

    // The same message again: refused in plain words, with the choices kept.
    await alice.goto(`${aliceApp.origin}/c/${conversation}`);
    await received.locator("summary", { hasText: "More" }).click();
    await received.locator("summary", { hasText: "Report" }).click();
    await form.getByLabel("Harassment or threats").check();
    await form.getByLabel("Note (optional)").fill("again");
    await form.getByRole("button", { name: "Send report" }).click();
    const refused = alice.getByRole("alert").filter({ hasText: "you reported this message already" });
    await expect(refused).toHaveAttribute("data-code", "report_replayed");
    await expect(alice.getByRole("heading", { name: "Report a message from @bob" })).toBeVisible();
    await expect(alice.getByLabel("Harassment or threats")).toBeChecked();
    await expect(alice.getByLabel("Note (optional)")).toHaveValue("again");
    expect(JSON.parse(await h.cli(staff, "--json", "admin", "--cred", tns, "--server", server.url, "reports", "list"))).toHaveLength(1);

    // Unblocked, alice writes again and hears from bob; blocking again asks first.
    await alice.getByRole("link", { name: "Back to the conversation" }).click();
    await alice.getByRole("button", { name: "Unblock @bob" }).click();
    await expect(alice.getByRole("textbox", { name: "Message" })).toBeEnabled();
    await expect(alice.locator(".blocked-state")).toHaveCount(0);
    await h.send(alice, "please stop");
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("please stop")).toBeVisible();
    await h.send(bob, "sorry, wrong number");
    await expect(log.getByText("sorry, wrong number")).toBeVisible();

    await alice.getByRole("link", { name: "Block @bob" }).click();
    await expect(alice.getByRole("heading", { name: "Block @bob?" })).toBeVisible();
    await h.noSeriousA11yFindings(alice);
    await alice.getByRole("button", { name: "Block @bob", exact: true }).click();
    await expect(alice).toHaveURL(`${aliceApp.origin}/c/${conversation}`);
    await expect(alice.getByRole("button", { name: "Unblock @bob" })).toBeVisible();
    await expect(alice.getByRole("textbox", { name: "Message" })).toBeDisabled();
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
});

test("offline, a report is not queued: it fails and says so, and goes once the server is back", async ({ browser }) => {
  const port = await h.freePort();
  let server = await h.startServer({ port });
  const aliceApp = await h.startApp();
  const bobApp = await h.startApp();
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  try {
    await h.register(alice, aliceApp, server, "alice");
    await h.register(bob, bobApp, server, "bob");
    await h.startChat(bob, "alice");
    await h.send(bob, "you won a prize");
    await alice.getByRole("link", { name: /@bob/ }).click();
    const received = alice.locator(".msg.in", { hasText: "you won a prize" });
    await expect(received).toBeVisible();

    await server.stop();
    await expect(alice.locator("#status")).toHaveAttribute("data-status", "offline");
    await received.locator("summary", { hasText: "More" }).click();
    await received.locator("summary", { hasText: "Report" }).click();
    await received.getByLabel("Spam or a scam").check();
    await received.getByLabel("Note (optional)").fill("a scam");
    await received.getByRole("button", { name: "Send report" }).click();
    await expect(alice.getByRole("alert").filter({ hasText: "the server cannot be reached" })).toHaveAttribute("data-code", "server_unreachable");
    await expect(alice.locator('[data-code="report_not_queued"]')).toContainText("A report is not queued like a message");
    await expect(alice.getByLabel("Note (optional)")).toHaveValue("a scam");
    await h.noSeriousA11yFindings(alice);

    server = await h.startServer({ port, data: server.data });
    await expect(alice.locator("#status")).toHaveAttribute("data-status", "online", { timeout: 40_000 });
    await alice.getByRole("button", { name: "Send report" }).click();
    await expect(alice.getByRole("status").filter({ hasText: "Reported to the server's trust & safety." })).toBeVisible();
    // Not blocked: the composer stays open.
    await expect(alice.getByRole("textbox", { name: "Message" })).toBeEnabled();
    await expect(alice.locator(".blocked-state")).toHaveCount(0);
  } finally {
    await Promise.all([aliceApp.stop(), bobApp.stop()]);
    await server.stop();
  }
});
