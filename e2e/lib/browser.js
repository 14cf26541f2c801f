// Debian's Chromium driven by playwright-core (no browser download), and the helpers every
// test shares: screenshots, the axe-core audit, sign-in.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");
const { E2E_DIR } = require("./server");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Launches headless Chromium with a fresh profile; only 127.0.0.1 resolves. */
async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium introuvable : ${CHROMIUM} (apt-get install chromium, ou CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // The tests reach the local server only: every other host fails to resolve.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
}

/** A browser context at the screenshots' width, French, optionally without JavaScript. */
async function newContext(browser, baseURL, options = {}) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1280, height: 900 },
    locale: "fr-FR",
    ...options,
  });
  context.setDefaultTimeout(15_000);
  return context;
}

/** Where screenshots go: `PREUVES_E2E_SCREENSHOTS` (relative to e2e/) or e2e/output/. */
function screenshotDir() {
  const dir = path.resolve(E2E_DIR, process.env.PREUVES_E2E_SCREENSHOTS || "output");
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const MAX_SHOT_HEIGHT = 2400;

/** A full-page PNG of `page`, cropped to MAX_SHOT_HEIGHT pixels. */
async function screenshot(page, name) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const width = page.viewportSize().width;
  await page.screenshot({
    path: path.join(screenshotDir(), name),
    fullPage: true,
    clip: { x: 0, y: 0, width, height: Math.min(height, MAX_SHOT_HEIGHT) },
    animations: "disabled",
    caret: "hide",
  });
}

const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, so the page's CSP stays
 * in force) and returns the serious and critical violations, formatted.
 */
async function audit(page) {
  const hasAxe = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!hasAxe) {
    await page.evaluate(AXE_SOURCE);
  }
  const violations = await page.evaluate(
    async (tags) => {
      const result = await window.axe.run(document, {
        runOnly: { type: "tag", values: tags },
        resultTypes: ["violations"],
      });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        targets: v.nodes.map((n) => n.target.join(" ")),
        summary: v.nodes[0] ? v.nodes[0].failureSummary : "",
      }));
    },
    AXE_TAGS,
  );
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The violations as readable lines (rule id, impact, help, targets). */
function describe(violations) {
  return violations
    .map(
      (v) =>
        `- ${v.id} (${v.impact}) : ${v.help}\n    ${v.targets.slice(0, 10).join("\n    ")}` +
        (v.targets.length > 10 ? `\n    … et ${v.targets.length - 10} autre(s)` : "") +
        (v.summary ? `\n    ${v.summary.replace(/\n/g, "\n    ")}` : ""),
    )
    .join("\n");
}

const PASSWORD = "demo-preuves-2026";
const ACCOUNTS = {
  vendor: "editeur@demo.preuves.fr",
  instructor: "instructeur@demo.preuves.fr",
  admin: "admin@demo.preuves.fr",
};

/** Signs in through the form (clicks and typing). */
async function signIn(page, email) {
  await page.goto("/connexion");
  await page.getByLabel("Adresse électronique").fill(email);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith("/connexion")),
    page.getByRole("button", { name: "Se connecter" }).click(),
  ]);
}

/** Signs out through the header's button. */
async function signOut(page) {
  await Promise.all([
    page.waitForNavigation(),
    page.getByRole("button", { name: "Se déconnecter" }).click(),
  ]);
}

module.exports = {
  launch,
  newContext,
  screenshot,
  audit,
  describe,
  signIn,
  signOut,
  ACCOUNTS,
  PASSWORD,
};
