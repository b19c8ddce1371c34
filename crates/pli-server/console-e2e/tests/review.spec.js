// One lawful request from entry to disclosure by three legal reviewers, each in a browser
// of their own: Lena enters it (and narrows it, which the next reviewer sees as a diff),
// Mo approves it, and the page tells Noor that a second reviewer is still required before
// she approves and downloads the signed disclosure package. Lena may not approve what she
// wrote, and the page says so with the rule's code. Sign-in needs the TOTP second factor:
// a wrong code is refused, a right one (computed here from the enrolment secret) works.
const fs = require("node:fs");
const { test, expect } = require("@playwright/test");
const { addStaff, enrol, noA11yFindings, screenshot, startServer, submitSignIn, totp } = require("./harness");

test("a request goes from entry to disclosure by three reviewers, two-person rule and TOTP enforced", async ({ browser }) => {
  const server = await startServer();
  try {
    const [lena, mo, noor] = [
      await addStaff(server, "lena", "legal"),
      await addStaff(server, "mo", "legal"),
      await addStaff(server, "noor", "legal"),
    ];
    const contexts = [await browser.newContext(), await browser.newContext(), await browser.newContext()];
    const [entry, first, second] = await Promise.all(contexts.map((c) => c.newPage()));

    // Lena's first sign-in: the credential, then enrolment.
    await submitSignIn(entry, server, lena);
    await expect(entry.getByRole("heading", { name: "Enrol your second factor" })).toBeVisible();
    await noA11yFindings(entry);
    await screenshot(entry, "enrol");
    const secret = (await entry.locator("#totp-secret").textContent()).trim();
    await entry.getByLabel("Six-digit code from the app").fill("000000");
    await entry.getByRole("button", { name: "Confirm and sign in" }).click();
    await expect(entry.getByRole("alert")).toContainText("bad_second_factor");
    await entry.getByLabel("Six-digit code from the app").fill(totp(secret));
    await entry.getByRole("button", { name: "Confirm and sign in" }).click();
    await expect(entry.getByRole("heading", { name: "Lawful requests" })).toBeVisible();

    // Signed out, the credential alone no longer opens the console: a code is needed, a
    // wrong one is refused, the app's next one works.
    await entry.getByRole("button", { name: "Sign out" }).click();
    await expect(entry.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await submitSignIn(entry, server, lena);
    await expect(entry.getByRole("alert")).toContainText("bad_second_factor");
    await submitSignIn(entry, server, lena, "123456" === totp(secret) ? "654321" : "123456");
    await expect(entry.getByRole("alert")).toContainText("bad_second_factor");
    await noA11yFindings(entry);
    await screenshot(entry, "signin");
    await submitSignIn(entry, server, lena, totp(secret, Date.now() + 30_000));
    await expect(entry.getByRole("heading", { name: "Lawful requests" })).toBeVisible();
    await noA11yFindings(entry);

    // Lena enters the request, with the basis rules beside the form.
    await entry.getByRole("link", { name: "Enter a new request" }).click();
    await expect(entry.getByRole("heading", { name: "The rules this request is held to" })).toBeVisible();
    await entry.getByLabel("Requesting authority").fill("Tribunal judiciaire de Paris");
    await entry.getByLabel("Country").fill("FR");
    await entry.getByLabel("Legal basis").selectOption("court-order");
    await entry.getByLabel("document reference").fill("RG 26/04512");
    await entry.getByLabel("SHA-256 of the document").fill("3f".repeat(32));
    await entry.getByLabel("Target accounts").fill("alice");
    await entry.getByLabel(/Subscriber facts/).check();
    await entry.getByLabel(/Devices \(device keys/).check();
    await entry.getByLabel("Non-disclosure order until").fill("2027-03-31");
    await noA11yFindings(entry);
    await screenshot(entry, "new-request");
    await entry.getByRole("button", { name: "Enter the request" }).click();
    await expect(entry.getByRole("status")).toContainText("The request was entered");
    await expect(entry.locator(".needed")).toContainText("2 more approvals");
    const url = entry.url().split("?")[0];

    // Lena narrows it to subscriber facts: a new version, approvals void.
    await entry.getByRole("link", { name: "Edit (voids approvals)" }).click();
    await entry.getByLabel(/Devices \(device keys/).uncheck();
    await entry.getByRole("button", { name: "Save this version" }).click();
    await expect(entry.getByRole("status")).toContainText("new version was saved");
    // She wrote it: no approval for her, and the page names the rule.
    await expect(entry.getByRole("button", { name: "Approve this version" })).toHaveCount(0);
    await expect(entry.locator(".refused-action").first()).toContainText("cannot approve");
    await expect(entry.locator(".refused-action").first()).toContainText("policy_refused");

    // Mo: sees the diff between versions, and approves.
    await enrol(first, server, mo);
    await first.goto(url);
    await expect(first.locator("table.diff tr.del")).toContainText("category: devices");
    await noA11yFindings(first);
    await first.getByRole("button", { name: "Approve this version" }).click();
    await expect(first.getByRole("status")).toContainText("Your approval of this version is recorded");
    await expect(first.locator(".needed")).toContainText("1 more approval");
    // One approval each: Mo may not approve twice.
    await expect(first.getByRole("button", { name: "Approve this version" })).toHaveCount(0);

    // Noor: the page says a second reviewer is still required; she approves and discloses.
    await enrol(second, server, noor);
    await second.getByRole("link", { name: "Requests", exact: true }).click();
    await noA11yFindings(second);
    await screenshot(second, "requests");
    await second.goto(url);
    await expect(second.locator(".needed")).toContainText("A second reviewer is required");
    await expect(second.locator(".needed")).toContainText("who neither wrote it");
    await expect(second.getByRole("button", { name: "Disclose and download the signed package" })).toHaveCount(0);
    await noA11yFindings(second);
    await screenshot(second, "review");
    await second.getByRole("button", { name: "Approve this version" }).click();
    // Narrowed by an edit, then approved: the state says so.
    await expect(second.locator(".summary")).toContainText("narrowed");
    const [download] = await Promise.all([
      second.waitForEvent("download"),
      second.getByRole("button", { name: "Disclose and download the signed package" }).click(),
    ]);
    const file = await download.path();
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(pkg.request_id).toBe(url.split("/").pop());
    expect(download.suggestedFilename()).toBe(`pli-disclosure-${pkg.request_id}.json`);
    await second.goto(url);
    await expect(second.locator(".summary")).toContainText("disclosed");
    await expect(second.locator(".needed")).toContainText("when the non-disclosure order ends (2027-03-31)");

    // Lena sees the same request disclosed, with who did what.
    await entry.reload();
    await expect(entry.locator(".people")).toContainText("#" + mo.staff_id);
    await expect(entry.locator(".people")).toContainText("#" + noor.staff_id);
    await Promise.all(contexts.map((c) => c.close()));
  } finally {
    await server.stop();
  }
});
