// pa11y over several pages in one Chromium (a launch per page costs seconds on a loaded
// machine): node run.js CHROMIUM URL... prints {url: [issue, ...]} as JSON, errors only.
// Runners axe and htmlcs, WCAG 2 AA: what `pa11y --runner axe --runner htmlcs URL` reports.
"use strict";
const pa11y = require("pa11y");
const puppeteer = require("puppeteer");

async function main() {
  const [executablePath, ...urls] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
    // HTML_CodeSniffer takes minutes over the 指标档案 (900 kB, 37,000 elements) on a
    // loaded machine: puppeteer's default 3 minutes a call is not enough.
    protocolTimeout: 1800000,
  });
  const out = {};
  try {
    for (const url of urls) {
      const start = Date.now();
      const result = await pa11y(url, {
        browser,
        runners: ["axe", "htmlcs"],
        standard: "WCAG2AA",
        includeWarnings: false,
        includeNotices: false,
        timeout: 1800000,
        viewport: { width: 1280, height: 1024 },
      });
      out[url] = result.issues;
      process.stderr.write(`${((Date.now() - start) / 1000).toFixed(1)} s, ${result.issues.length} errors: ${url}\n`);
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
