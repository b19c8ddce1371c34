// Browser tests of pli app, in Debian's chromium (`apt-get install -y chromium`): Playwright
// drives it through `executablePath` and never downloads a browser of its own.
const { defineConfig } = require("@playwright/test");

module.exports = defineConfig({
  testDir: "tests",
  // Each test starts its own server and apps; two cores run one test at a time.
  workers: 1,
  timeout: 90_000,
  // Debian's chromium has been seen to crash while launching (SIGSEGV before any page):
  // one retry of a test, never more; a real failure fails twice.
  retries: 1,
  expect: { timeout: 20_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.PLI_CHROMIUM || "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu"],
    },
    viewport: { width: 1200, height: 780 },
  },
});
