// Browser tests of the staff console, in Debian's chromium (`apt-get install -y chromium`):
// Playwright drives it through `executablePath` and never downloads a browser of its own.
const { defineConfig } = require("@playwright/test");

module.exports = defineConfig({
  testDir: "tests",
  // Each test starts its own server; two cores run one test at a time.
  workers: 1,
  timeout: 90_000,
  // Debian's chromium has been seen to crash while launching: one retry, never more.
  retries: 1,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    acceptDownloads: true,
    launchOptions: {
      executablePath: process.env.PLI_CHROMIUM || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
    viewport: { width: 1280, height: 860 },
  },
});
