// Reactions, replies, edits and deletion for everyone in pli app: each from a message's
// own actions (a disclosure that opens without script), seen live by the other person;
// only the author is offered edit and delete, and the app refuses them for anyone else,
// like a reaction it does not offer.
const { test, expect } = require("@playwright/test");
const h = require("./harness");

const THUMBS_UP = "\u{1F44D}";

/** Posts `fields` to `path` from `page` (same origin, as a form would); answers status and code. */
async function post(page, path, fields) {
  return page.evaluate(
    async ({ path, fields }) => {
      const response = await fetch(path, { method: "POST", body: new URLSearchParams(fields) });
      return { status: response.status, code: response.headers.get("x-pli-error") };
    },
    { path, fields },
  );
}

test("react, reply, edit and delete for everyone, seen live on the other side", async ({ browser }) => {
  await h.withAliceAndBob(browser, async ({ server, alice, bob }) => {
    await h.startChat(bob, "alice");
    await h.send(bob, "dinner at 7?");

    await alice.getByRole("link", { name: /@bob/ }).click();
    const aliceLog = alice.getByRole("log", { name: "Messages" });
    const bobLog = bob.getByRole("log", { name: "Messages" });
    const received = aliceLog.locator(".msg.in", { hasText: "dinner at 7?" });
    await expect(received).toBeVisible();
    const conversation = await alice.locator("section.chat").getAttribute("data-conversation");
    const localId = await received.getAttribute("data-id");

    // Someone else's message offers reactions and a reply, never edit or delete; the app
    // refuses both anyway, and a reaction it does not offer.
    await received.locator("summary", { hasText: "More" }).click();
    await expect(received.getByRole("button", { name: "Delete for everyone" })).toHaveCount(0);
    await expect(received.getByRole("link", { name: "Edit" })).toHaveCount(0);
    expect(await post(alice, `/c/${conversation}/m/${localId}/delete`, {})).toEqual({ status: 400, code: "not_author" });
    expect(await post(alice, `/c/${conversation}/m/${localId}/edit`, { text: "dinner never" })).toEqual({ status: 400, code: "not_author" });
    expect(await post(alice, `/c/${conversation}/m/${localId}/react`, { reaction: "<b>" })).toEqual({ status: 400, code: "bad_reaction" });
    expect(await post(alice, `/c/${conversation}/m/999999/react`, { reaction: THUMBS_UP })).toEqual({ status: 400, code: "unknown_message" });

    // A reaction, shown on both sides; the same button again takes it back.
    await received.getByRole("button", { name: "React thumbs up" }).click();
    const chip = aliceLog.locator(".msg.in .reaction", { hasText: `${THUMBS_UP} 1` });
    await expect(chip).toHaveAttribute("aria-pressed", "true");
    await expect(bobLog.locator(".msg.out .reaction", { hasText: `${THUMBS_UP} 1` })).toHaveAttribute("aria-pressed", "false");

    // A reply: the composer says what it answers; both sides show the quote.
    await aliceLog.locator(".msg.in", { hasText: "dinner at 7?" }).locator("summary", { hasText: "More" }).click();
    await aliceLog.locator(".msg.in").getByRole("link", { name: "Reply" }).click();
    await expect(alice.locator("#composer .replying")).toContainText("Replying to @bob: dinner at 7?");
    await h.send(alice, "yes, see you there");
    await expect(alice.locator("#composer .replying")).toHaveCount(0);
    const bobReply = bobLog.locator(".msg.in", { hasText: "yes, see you there" });
    await expect(bobReply.locator(".quote")).toContainText("@bob dinner at 7?");

    // The author edits: the new text on both sides, marked edited, quoted anew.
    const own = bobLog.locator(".msg.out", { hasText: "dinner at 7?" });
    await own.locator("summary", { hasText: "More" }).click();
    await h.noSeriousA11yFindings(bob);
    await h.screenshot(bob, "app-message-actions");
    await own.getByRole("link", { name: "Edit" }).click();
    const newText = bob.getByRole("textbox", { name: "New text" });
    await expect(newText).toHaveValue("dinner at 7?");
    // An empty edit comes back with its reason, on the same form.
    await newText.fill("   ");
    await bob.getByRole("button", { name: "Save edit" }).click();
    await expect(bob.locator('[data-code="empty_message"]')).toBeVisible();
    await bob.getByRole("textbox", { name: "New text" }).fill("dinner at 8?");
    await bob.getByRole("button", { name: "Save edit" }).click();
    await expect(bobLog.locator(".msg.out", { hasText: "dinner at 8?" }).locator(".edited")).toHaveText("edited");
    const edited = aliceLog.locator(".msg.in", { hasText: "dinner at 8?" });
    await expect(edited.locator(".edited")).toHaveText("edited");
    await expect(aliceLog.locator(".msg.out .quote")).toContainText("@bob dinner at 8?");
    await expect(aliceLog.getByText("dinner at 7?")).toHaveCount(0);
    await h.noSeriousA11yFindings(alice);
    await h.screenshot(alice, "app-reactions-reply");

    // Alice takes her reaction back.
    await edited.getByRole("button", { name: `${THUMBS_UP} 1, yours: take it back` }).click();
    await expect(aliceLog.locator(".msg.in .reaction")).toHaveCount(0);
    await expect(bobLog.locator(".msg.out .reaction")).toHaveCount(0);

    // The author deletes it for everyone: "Message deleted" on both sides, the quote too.
    const ownAgain = bobLog.locator(".msg.out", { hasText: "dinner at 8?" });
    await ownAgain.locator("summary", { hasText: "More" }).click();
    await ownAgain.getByRole("button", { name: "Delete for everyone" }).click();
    await expect(bobLog.locator(".msg.out .text.deleted")).toHaveText("Message deleted");
    await expect(aliceLog.locator(".msg.in .text.deleted")).toHaveText("Message deleted");
    await expect(aliceLog.locator(".msg.out .quote")).toContainText("Message deleted");
    await expect(aliceLog.getByText("dinner at 8?")).toHaveCount(0);
    await expect(aliceLog.locator(".msg.in summary", { hasText: "More" })).toHaveCount(0);
    await expect(alice.locator("#list")).toContainText("yes, see you there");
  });
});
