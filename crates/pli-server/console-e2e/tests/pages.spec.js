// The operators' and auditors' pages: staff and roles, regions and policies, retention and
// the key directory, the audit log with an entry's proof and the checkpoints, reports. Each
// is scanned by axe-core; the navigation shows only what the role may use.
const { test, expect } = require("@playwright/test");
const { addStaff, enrol, noA11yFindings, screenshot, startServer } = require("./harness");

test("operators and auditors see their pages, and only theirs", async ({ browser }) => {
  const server = await startServer();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await enrol(page, server, server.operator);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Requests", exact: true })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Staff", exact: true })).toBeVisible();

    await nav.getByRole("link", { name: "Staff", exact: true }).click();
    await page.getByLabel("Name (1 to 64").fill("audra");
    await page.getByLabel("Role", { exact: true }).selectOption("auditor");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect(page.getByRole("status")).toContainText("audra was added");
    await expect(page.getByRole("row", { name: /audra/ })).toContainText("not yet");
    await noA11yFindings(page);

    await nav.getByRole("link", { name: "Regions", exact: true }).click();
    await expect(page.getByRole("rowheader", { name: /default/ })).toBeVisible();
    await noA11yFindings(page);

    await nav.getByRole("link", { name: "Operations", exact: true }).click();
    await page.getByRole("button", { name: "Run retention now" }).click();
    await expect(page.getByRole("status")).toContainText("Retention ran");
    await noA11yFindings(page);

    await nav.getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("cell", { name: "retention.run" })).toBeVisible();
    await expect(page.getByRole("cell", { name: "totp.enrol" })).toBeVisible();
    await noA11yFindings(page);
    await screenshot(page, "audit");
    await page.getByRole("link", { name: "1", exact: true }).click();
    await expect(page.getByRole("heading", { name: /Inclusion proof/ })).toBeVisible();
    await noA11yFindings(page);
    await page.goto(`${server.admin}/console/audit/checkpoints`);
    await expect(page.getByRole("heading", { name: "Checkpoints and witnesses" })).toBeVisible();
    await noA11yFindings(page);

    await nav.getByRole("link", { name: "Reports" }).click();
    const quarter = `${new Date().getUTCFullYear()}-Q${Math.floor(new Date().getUTCMonth() / 3) + 1}`;
    await page.getByLabel("Period").fill(quarter);
    await page.getByRole("button", { name: "Make the report" }).click();
    await expect(page.getByRole("heading", { name: "The signed report" })).toBeVisible();
    await noA11yFindings(page);

    await nav.getByRole("link", { name: "Staff", exact: true }).click();
    await screenshot(page, "staff");

    // An auditor: the log and reports, requests read-only, no operator pages.
    const auditor = await addStaff(server, "ines", "auditor");
    const other = await browser.newContext();
    const second = await other.newPage();
    await enrol(second, server, auditor);
    const theirs = second.getByRole("navigation", { name: "Main" });
    await expect(theirs.getByRole("link", { name: "Audit log" })).toBeVisible();
    await expect(theirs.getByRole("link", { name: "Operations", exact: true })).toHaveCount(0);
    await expect(second.getByRole("link", { name: "Enter a new request" })).toHaveCount(0);
    await second.goto(`${server.admin}/console/operations`);
    await expect(second.getByRole("alert")).toContainText("forbidden");
    await context.close();
    await other.close();
  } finally {
    await server.stop();
  }
});
