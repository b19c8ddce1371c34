// Typing indicators: shown live to the other person while one types, gone once the
// message arrives; never stored (the Rust suite scans the server's storage for them).
const { test, expect } = require("@playwright/test");
const h = require("./harness");

test("the other person sees who is typing, until the message comes", async ({ browser }) => {
  await h.withAliceAndBob(browser, async ({ server, alice, bob }) => {
    await h.startChat(bob, "alice");
    await h.send(bob, "are you there?");
    await alice.getByRole("link", { name: /@bob/ }).click();
    await expect(alice.getByRole("log", { name: "Messages" }).getByText("are you there?")).toBeVisible();

    const typing = bob.locator("#typing");
    await expect(typing).toHaveText("");
    await alice.getByRole("textbox", { name: "Message" }).pressSequentially("yes, one moment");
    await expect(typing).toHaveText("@alice is typing…");
    await h.screenshot(bob, "app-typing");
    await alice.getByRole("textbox", { name: "Message" }).press("Enter");
    await expect(bob.getByRole("log", { name: "Messages" }).getByText("yes, one moment")).toBeVisible();
    await expect(typing).toHaveText("");

    // A bad value is refused with its code.
    const conversation = await alice.locator("section.chat").getAttribute("data-conversation");
    const answer = await alice.evaluate(async (path) => {
      const response = await fetch(path, { method: "POST", body: new URLSearchParams({ typing: "maybe" }) });
      return { status: response.status, code: response.headers.get("x-pli-error") };
    }, `/c/${conversation}/typing`);
    expect(answer).toEqual({ status: 400, code: "bad_typing" });
  });
});
