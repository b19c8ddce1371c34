// Files in pli app: a picture shared from the Attach form shows inline on both sides (its
// thumbnail travels inside the encrypted message; the full picture opens from the link,
// byte for byte), and a voice note plays in the other person's page.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const h = require("./harness");

/** One second of a 440 Hz tone: 48 kHz mono 16-bit WAV. */
function wav() {
  const rate = 48000;
  const samples = rate;
  const out = Buffer.alloc(44 + samples * 2);
  out.write("RIFF", 0);
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write("WAVEfmt ", 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36);
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    out.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), 44 + i * 2);
  }
  return out;
}

test("a picture shows inline on both sides and a voice note plays", async ({ browser }) => {
  await h.withAliceAndBob(browser, async ({ alice, bob }) => {
    const files = h.tempDir("files");
    const picture = path.join(files, "sunset.png");
    fs.writeFileSync(picture, h.png(960, 600));
    const note = path.join(files, "voice-note.wav");
    fs.writeFileSync(note, wav());

    await h.startChat(bob, "alice");
    await h.send(bob, "send me the photo?");
    await alice.getByRole("link", { name: /@bob/ }).click();
    await expect(alice.getByRole("log", { name: "Messages" }).getByText("send me the photo?")).toBeVisible();

    // Alice shares the picture with a caption, from the Attach form.
    await alice.getByText("📎 Attach a file").click();
    await alice.getByLabel("File to send").setInputFiles(picture);
    await alice.getByRole("textbox", { name: "Caption" }).fill("sunset from the pier");
    await alice.getByRole("button", { name: "Send file" }).click();
    const mine = alice.locator(".msg.out", { hasText: "sunset from the pier" });
    await expect(mine.locator("img.thumbnail")).toBeVisible();

    // Bob sees it inline: the thumbnail decodes, and the link gives the picture as sent.
    const got = bob.locator(".msg.in", { hasText: "sunset from the pier" });
    const thumb = got.locator("img.thumbnail");
    await expect(thumb).toBeVisible();
    await expect.poll(() => thumb.evaluate((img) => img.complete && img.naturalWidth)).toBe(320);
    const href = await got.locator("a.file").getAttribute("href");
    const full = await bob.request.get(new URL(href, bob.url()).href);
    expect(full.status()).toBe(200);
    expect(full.headers()["content-type"]).toBe("image/png");
    expect(Buffer.compare(await full.body(), fs.readFileSync(picture))).toBe(0);
    await expect(bob.locator(".conversation", { hasText: "@alice" }).locator(".last")).toHaveText("sunset from the pier");

    // A voice note, no caption: bob's page plays it (the player reads its full second).
    await alice.getByText("📎 Attach a file").click();
    await alice.getByLabel("File to send").setInputFiles(note);
    await alice.getByRole("button", { name: "Send file" }).click();
    const voice = bob.locator(".msg.in", { has: bob.locator("audio") });
    await expect(voice).toBeVisible();
    await expect(voice.locator("a.file")).toHaveText(/voice-note\.wav \(93\.8 KiB\)/);
    const seconds = await voice.locator("audio").evaluate(
      (audio) =>
        new Promise((resolve, reject) => {
          audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
          audio.addEventListener("error", () => reject(new Error("the voice note did not load")));
          audio.preload = "auto";
          audio.load();
        }),
    );
    expect(seconds).toBeGreaterThan(0.99);
    expect(seconds).toBeLessThan(1.01);
    await expect(bob.locator(".conversation", { hasText: "@alice" }).locator(".last")).toHaveText("📎 File");

    // A file is served only under its own conversation, and only a message's own.
    const [, conversation, message] = href.match(/^\/c\/([0-9a-f]+)\/files\/(\d+)$/);
    const origin = new URL(bob.url()).origin;
    const zeros = "0".repeat(conversation.length);
    expect((await bob.request.get(`${origin}/c/${zeros}/files/${message}`)).status()).toBe(404);
    expect((await bob.request.get(`${origin}/c/${conversation}/files/999999`)).status()).toBe(404);
    // The Attach form without a file: refused with its code, nothing sent.
    const empty = await alice.request.post(`${new URL(alice.url()).origin}/c/${conversation}/attach`, {
      headers: { Origin: new URL(alice.url()).origin },
      multipart: { caption: "nothing attached" },
    });
    expect(empty.status()).toBe(400);
    expect(empty.headers()["x-pli-error"]).toBe("no_file");

    await h.noSeriousA11yFindings(bob);
    await h.screenshot(bob, "app-attachments");
  });
});
