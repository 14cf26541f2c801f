// Accessibility: axe-core (WCAG 2.0/2.1 A and AA) on every main page, in the same Chromium,
// failing on any serious or critical violation; and the keyboard: skip link first, focus
// visible, sign-in and the administrative step with the keyboard only.
"use strict";

const assert = require("node:assert/strict");
const { describe, test, before, after } = require("node:test");
const { startServer } = require("../lib/server");
const { launch, newContext, audit, describe: describeViolations, signIn, ACCOUNTS, PASSWORD } =
  require("../lib/browser");
const { pdf } = require("../lib/files");

const DEMO_NRU = "REF-DPI-2-0001";

async function assertAccessible(page, what) {
  const violations = await audit(page);
  assert.equal(
    violations.length,
    0,
    `${what} (${new URL(page.url()).pathname}) : ${violations.length} violation(s) graves ou critiques\n${describeViolations(violations)}`,
  );
}

describe("accessibilité : audit axe-core de chaque page", () => {
  let server;
  let browser;
  const pages = {};
  const data = {};

  before(async () => {
    server = await startServer();
    browser = await launch();
    for (const [role, email] of Object.entries({ anonymous: null, ...ACCOUNTS })) {
      const context = await newContext(browser, server.url);
      const page = await context.newPage();
      page.on("dialog", (d) => d.accept());
      if (email) {
        await signIn(page, email);
      }
      pages[role] = page;
    }
    // A draft candidature (case 1's step, one commercial name) with one proof deposited,
    // then submitted incomplete: the vendor's and instructor's pages all have content.
    const v = pages.vendor;
    await v.goto("/candidatures/nouvelle");
    await v.locator("#dispositif").selectOption("DUI-MS-2");
    await Promise.all([v.waitForNavigation(), v.getByRole("button", { name: "Recalculer le plan" }).click()]);
    await v.locator("#solution").selectOption(await v.evaluate(() => [...document.querySelectorAll("#solution option")].find((o) => o.value).value));
    await v.locator("#version").fill("4.3");
    await v.locator('input[name=profil][value="PA"]').check();
    await v.locator("#nrus").fill(DEMO_NRU);
    await v.locator("#noms").fill("A");
    await Promise.all([
      v.waitForURL(/\/candidatures\/\d+$/),
      v.getByRole("button", { name: "Ouvrir la candidature" }).click(),
    ]);
    data.id = v.url().match(/(\d+)$/)[1];
  });

  after(async () => {
    if (browser) {
      await browser.close();
    }
    if (server) {
      await server.stop();
    }
  });

  // Pages in order: some create what the next ones show.
  const visits = [
    ["connexion", "anonymous", "/connexion"],
    ["connexion refusée", "anonymous", async (p) => {
      await p.goto("/connexion");
      await p.getByLabel("Adresse électronique").fill(ACCOUNTS.vendor);
      await p.getByLabel("Mot de passe").fill(`${PASSWORD}-faux`);
      await Promise.all([p.waitForNavigation(), p.getByRole("button", { name: "Se connecter" }).click()]);
      await p.locator("#erreur-connexion").waitFor();
    }],
    ["accueil", "anonymous", "/"],
    ["catalogue", "anonymous", "/catalogue"],
    ["catalogue : dispositif", "anonymous", "/catalogue/DUI-MS/2"],
    ["catalogue : exigence", "anonymous", async (p) => {
      await p.goto("/catalogue/DUI-MS/2");
      const href = await p.locator('a[href*="/exigence"]').first().getAttribute("href");
      await p.goto(href);
    }],
    ["registre public", "anonymous", "/registre"],
    ["vérification : formulaire", "anonymous", "/verifier"],
    ["vérification : résultat", "anonymous", `/verifier/${DEMO_NRU}`],
    ["page introuvable (404)", "anonymous", "/cette-page-n-existe-pas"],
    ["accueil connecté", "vendor", "/"],
    ["tableau de bord de l'éditeur", "vendor", "/candidatures"],
    ["solutions", "vendor", "/solutions"],
    ["nouvelle candidature : étape administrative", "vendor", "/candidatures/nouvelle"],
    ["nouvelle candidature : aperçu refusé", "vendor", async (p) => {
      await p.goto("/candidatures/nouvelle");
      await p.locator("#solution").selectOption(await p.evaluate(() => [...document.querySelectorAll("#solution option")].find((o) => o.value).value));
      await p.locator("#version").fill("1.0");
      await p.locator("#nrus").fill(`${DEMO_NRU}\nREF-INCONNU-2-0042`);
      await Promise.all([p.waitForNavigation(), p.getByRole("button", { name: "Recalculer le plan" }).click()]);
    }],
    ["candidature : étape et plan", "vendor", (p) => p.goto(`/candidatures/${data.id}`)],
    ["candidature : plan filtré", "vendor", (p) => p.goto(`/candidatures/${data.id}?statut=masquees`)],
    ["dépôt des preuves", "vendor", async (p) => {
      await p.goto(`/candidatures/${data.id}/preuves`);
      const form = p.locator("details.expected li.missing form.upload").first();
      await form.locator("input[type=file]").setInputFiles({
        name: "preuve.pdf",
        mimeType: "application/pdf",
        buffer: pdf("accessibilité"),
      });
      await form.locator("button[type=submit]").click();
      await p.locator(".flash").waitFor({ timeout: 15_000 });
    }],
    ["candidature déposée", "vendor", async (p) => {
      await p.goto(`/candidatures/${data.id}/preuves`);
      await p.getByRole("checkbox", { name: /dossier incomplet/ }).check();
      await Promise.all([
        p.waitForURL(new RegExp(`/candidatures/${data.id}$`)),
        p.getByRole("button", { name: "Déposer la candidature" }).click(),
      ]);
    }],
    ["référencements de l'éditeur", "vendor", "/referencements"],
    ["référencement : détail", "vendor", `/referencements/${DEMO_NRU}`],
    ["jetons d'API", "vendor", "/compte/jetons"],
    ["file d'instruction", "instructor", "/instruction"],
    ["instruction : candidature", "instructor", (p) => p.goto(`/instruction/${data.id}`)],
    ["instruction : candidature prise", "instructor", async (p) => {
      await p.goto(`/instruction/${data.id}`);
      await Promise.all([p.waitForNavigation(), p.getByRole("button", { name: "Prendre en instruction" }).click()]);
      await p.locator("form.verdict").first().waitFor();
    }],
    ["registre des référencements (instructeur)", "instructor", "/referencements"],
    ["administration", "admin", "/admin"],
    ["organisations", "admin", "/admin/organisations"],
    ["utilisateurs", "admin", "/admin/utilisateurs"],
    ["import de REM", "admin", "/admin/import"],
    ["nouveau référencement obtenu", "admin", "/admin/referencements/nouveau"],
    ["référencement : détail (administrateur)", "admin", `/referencements/${DEMO_NRU}`],
    ["catalogue : dispositif (administrateur)", "admin", "/catalogue/DUI-MS/2"],
    ["jetons d'API (administrateur)", "admin", "/compte/jetons"],
  ];

  for (const [name, role, how] of visits) {
    test(name, async () => {
      const page = pages[role];
      if (typeof how === "string") {
        await page.goto(how);
      } else {
        await how(page);
      }
      await assertAccessible(page, name);
    });
  }
});

/** Presses Tab until the focused element matches `selector` (keyboard only), at most `max`. */
async function tabTo(page, selector, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) {
      return;
    }
  }
  throw new Error(`${selector} n'est pas atteint au clavier après ${max} tabulations`);
}

/** Moves a focused select's choice with the arrow keys until its value is `value`. */
async function arrowSelect(page, value, max = 40) {
  await page.keyboard.press("Home");
  for (let i = 0; i < max; i++) {
    if ((await page.evaluate(() => document.activeElement.value)) === value) {
      return;
    }
    await page.keyboard.press("ArrowDown");
  }
  throw new Error(`option ${value} introuvable au clavier`);
}

/** The focus indicator of the focused element: its outline and box shadow. */
function focusStyle(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return {
      tag: el.tagName,
      text: (el.textContent || "").trim(),
      outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
      visible:
        (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none",
    };
  });
}

describe("accessibilité : au clavier seul", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    if (browser) {
      await browser.close();
    }
    if (server) {
      await server.stop();
    }
  });

  test("le lien d'évitement est le premier arrêt de tabulation, et le focus est visible", async () => {
    const context = await newContext(browser, server.url);
    try {
      const page = await context.newPage();
      for (const path of ["/", "/connexion", "/catalogue", "/registre"]) {
        await page.goto(path);
        await page.keyboard.press("Tab");
        const first = await focusStyle(page);
        assert.equal(first.text, "Aller au contenu", `${path} : premier arrêt`);
        assert.ok(first.visible, `${path} : focus visible sur le lien d'évitement (${first.outline})`);
        const onScreen = await page.evaluate(() => {
          const r = document.activeElement.getBoundingClientRect();
          return r.left >= 0 && r.top >= 0 && r.width > 0 && r.height > 0;
        });
        assert.ok(onScreen, `${path} : le lien d'évitement apparaît quand il a le focus`);
        await page.keyboard.press("Enter");
        assert.equal(
          await page.evaluate(() => document.activeElement.id),
          "contenu",
          `${path} : le lien mène au contenu principal`,
        );
        // The next stop after the main content's start: a link or a button, focus visible.
        await page.keyboard.press("Tab");
        const next = await focusStyle(page);
        assert.ok(["A", "BUTTON", "INPUT", "SELECT", "TEXTAREA", "SUMMARY"].includes(next.tag), `${path} : ${next.tag}`);
        assert.ok(next.visible, `${path} : focus visible sur ${next.tag} « ${next.text} » (${next.outline})`);
      }
      // A button too.
      await page.goto("/connexion");
      await tabTo(page, "button[type=submit]");
      const button = await focusStyle(page);
      assert.ok(button.visible, `focus visible sur le bouton (${button.outline})`);
    } finally {
      await context.close();
    }
  });

  test("connexion puis étape administrative au clavier seul", async () => {
    const context = await newContext(browser, server.url);
    try {
      const page = await context.newPage();
      await page.goto("/");
      // Sign in: the header's link, then the form.
      await tabTo(page, 'a[href="/connexion"]');
      await Promise.all([page.waitForURL(/\/connexion$/), page.keyboard.press("Enter")]);
      await tabTo(page, "#email");
      await page.keyboard.type(ACCOUNTS.vendor);
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement.id), "password");
      await page.keyboard.type(PASSWORD);
      await Promise.all([
        page.waitForURL((u) => !u.pathname.startsWith("/connexion")),
        page.keyboard.press("Enter"),
      ]);
      assert.equal(await page.getByRole("button", { name: "Se déconnecter" }).count(), 1, "connecté");

      // To the administrative step through the home page's link.
      await page.goto("/");
      await tabTo(page, 'main a[href="/candidatures/nouvelle"]');
      await Promise.all([page.waitForURL(/\/candidatures\/nouvelle$/), page.keyboard.press("Enter")]);
      await tabTo(page, "#dispositif");
      await arrowSelect(page, "DUI-MS-2");
      // The target's profiles: "Recalculer le plan" re-renders the form for it.
      await tabTo(page, 'button[value="apercu"]');
      await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
      await tabTo(page, "#solution");
      const solution = await page.evaluate(
        () => [...document.querySelectorAll("#solution option")].find((o) => o.textContent.trim().startsWith("A")).value,
      );
      await arrowSelect(page, solution);
      await tabTo(page, "#version");
      await page.keyboard.type("4.3");
      await tabTo(page, 'input[name=profil][value="PA"]');
      await page.keyboard.press("Space");
      await tabTo(page, "#nrus");
      await page.keyboard.type(DEMO_NRU);
      await tabTo(page, "input[name=composant_nom]");
      await page.keyboard.type("Module INS");
      await tabTo(page, "input[name=composant_chapitres]");
      await page.keyboard.type("INS");
      await tabTo(page, "#noms");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("A\nA Santé\nA Social");
      const fields = await page.evaluate(() => {
        const f = document.querySelector("form[data-live-plan]");
        return {
          dispositif: f.elements.dispositif.value,
          version: f.elements.version.value,
          pa: f.querySelector('input[name=profil][value="PA"]').checked,
          nrus: f.elements.nrus.value,
          noms: f.elements.noms.value,
        };
      });
      assert.deepEqual(fields, {
        dispositif: "DUI-MS-2",
        version: "4.3",
        pa: true,
        nrus: DEMO_NRU,
        noms: "A\nA Santé\nA Social",
      });
      await tabTo(page, 'button[value="enregistrer"]');
      const focus = await focusStyle(page);
      assert.ok(focus.visible, `focus visible sur « ${focus.text} » (${focus.outline})`);
      await Promise.all([page.waitForURL(/\/candidatures\/\d+$/), page.keyboard.press("Enter")]);
      assert.match(await page.locator(".flash").innerText(), /enregistr/);
      const saved = await page.evaluate(() => ({
        component: document.querySelector("input[name=composant_nom]").value,
        chapters: document.querySelector("input[name=composant_chapitres]").value,
        noms: document.querySelector("#noms").value,
      }));
      assert.equal(saved.component, "Module INS");
      assert.equal(saved.chapters, "INS");
      assert.equal(saved.noms, "A\nA Santé\nA Social");
    } finally {
      await context.close();
    }
  });
});
