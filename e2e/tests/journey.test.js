// The webinar's case 2 through the real pages, in Debian's Chromium against the real server:
// the vendor's administrative step, plan, deposit with the progress bar and submission; the
// instructor's verdicts and grant; the public verification of the attestation. Also the same
// plan without JavaScript, and the screenshots of the user guide.
"use strict";

const assert = require("node:assert/strict");
const { describe, before, after } = require("node:test");
const { startServer, simulate } = require("../lib/server");
const {
  launch,
  newContext,
  screenshot,
  signIn,
  signOut,
  ACCOUNTS,
} = require("../lib/browser");
const { pdf, proofFile } = require("../lib/files");
const { sequence } = require("../lib/steps");

/** The plan a page shows: summary counts and, by requirement id, status and reason. */
async function shownPlan(page) {
  return page.evaluate(() => {
    const dl = document.querySelector("#plan dl.summary");
    const summary = dl && {
      in_scope: Number(dl.dataset.inScope),
      to_deposit: Number(dl.dataset.toDeposit),
      masked_heritage: Number(dl.dataset.maskedHeritage),
      masked_equivalence: Number(dl.dataset.maskedEquivalence),
    };
    const rows = {};
    for (const li of document.querySelectorAll("#plan li.req")) {
      const reason = li.querySelector(".reason");
      rows[li.dataset.exigence] = {
        status: li.dataset.statut,
        rule: li.dataset.regle || null,
        nru: li.dataset.nru || null,
        source: li.dataset.source || null,
        component: li.dataset.composant || null,
        reasonText: reason ? reason.textContent.replace(/\s+/g, " ").trim() : "",
      };
    }
    return { summary, rows };
  });
}

/** The engine's answer for the same scenario, in the same shape. */
function expectedPlan(answer) {
  assert.deepEqual(answer.errors, [], "le scénario cas-2 est accepté par le moteur");
  const rows = {};
  for (const r of answer.requirements) {
    rows[r.id] = {
      status: r.status,
      rule: r.reason ? r.reason.rule : null,
      nru: r.reason ? r.reason.nru || null : null,
      source: r.reason ? r.reason.source_requirement || null : null,
      component: r.reason ? r.reason.component || null : null,
    };
  }
  const s = answer.summary;
  return {
    summary: {
      in_scope: s.in_scope,
      to_deposit: s.to_deposit,
      masked_heritage: s.masked_heritage,
      masked_equivalence: s.masked_equivalence,
    },
    rows,
  };
}

function assertSamePlan(shown, expected, where) {
  assert.deepEqual(shown.summary, expected.summary, `${where} : compteurs du plan`);
  const strip = Object.fromEntries(
    Object.entries(shown.rows).map(([id, r]) => [
      id,
      { status: r.status, rule: r.rule, nru: r.nru, source: r.source, component: r.component },
    ]),
  );
  assert.deepEqual(strip, expected.rows, `${where} : exigences du plan`);
}

/** The value of the solution select's option for the solution named `name`. */
function solutionValue(page, name) {
  return page.evaluate((n) => {
    const option = [...document.querySelectorAll("#solution option")].find(
      (o) => o.value && (o.textContent.trim() === n || o.textContent.trim().startsWith(`${n} `)),
    );
    return option ? option.value : `introuvable : ${n}`;
  }, name);
}

/**
 * Fills the administrative step of case 2 (the scenario's values) by clicks and typing. The
 * target's optional profiles appear as it is chosen: with JavaScript, the live plan's script
 * brings them; without, "Recalculer le plan" (a plain post) does.
 */
async function fillCase2(page, scenario, { javascript = true } = {}) {
  const c = scenario.candidature;
  await page.locator("#dispositif").selectOption(`${c.dispositif}-${c.wave}`);
  if (!javascript) {
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole("button", { name: "Recalculer le plan" }).click(),
    ]);
  }
  assert.ok(c.optional_profiles.length > 0, "le cas 2 choisit un profil optionnel");
  for (const p of c.optional_profiles) {
    await page.locator(`input[name=profil][value="${p}"]`).waitFor({ timeout: 10_000 });
  }
  await page.locator("#solution").selectOption(await solutionValue(page, c.solution));
  await page.locator("#version").fill(c.version);
  for (const p of c.optional_profiles) {
    await page.locator(`input[name=profil][value="${p}"]`).check();
  }
  await page.locator("#nrus").fill(c.nrus.join("\n"));
  const comp = c.additional_components[0];
  await page.locator("input[name=composant_nom]").first().fill(comp.name);
  await page.locator("input[name=composant_chapitres]").first().fill(comp.chapters.join(", "));
  await page.locator("#noms").fill(c.commercial_names.join("\n"));
}

/**
 * Uploads `files` through a `form[data-upload]` with the page's script, records what its
 * progress bar and status did, and waits for the server's page to replace this one.
 */
async function uploadWithProgress(page, form, files, trace) {
  trace.length = 0;
  await form.evaluate((f) => {
    const progress = f.querySelector("progress");
    const status = f.querySelector(".upload-status");
    const report = () =>
      console.log(
        `upload-trace ${JSON.stringify({
          hidden: progress.hidden,
          value: Number(progress.value),
          status: status ? status.textContent : "",
        })}`,
      );
    const observer = new MutationObserver(report);
    observer.observe(progress, { attributes: true });
    if (status) {
      observer.observe(status, { childList: true, characterData: true, subtree: true });
    }
    // Gone once the server's answer has been written over the document.
    document.documentElement.dataset.e2eBeforeUpload = "1";
  });
  await form.locator("input[type=file]").setInputFiles(files);
  await form.locator("button[type=submit]").click();
  // The page's script writes the server's answer over the document (new DOM, mark gone).
  await page.waitForFunction(
    () =>
      document.documentElement &&
      !document.documentElement.dataset.e2eBeforeUpload &&
      document.readyState === "complete",
    null,
    { timeout: 30_000 },
  );
  return trace.map((line) => JSON.parse(line));
}

function assertProgressShown(states, what) {
  assert.ok(states.length > 0, `${what} : la barre de progression n'a pas bougé`);
  assert.ok(
    states.some((s) => !s.hidden),
    `${what} : la barre de progression n'est jamais apparue (${JSON.stringify(states)})`,
  );
  assert.ok(
    states.some((s) => s.value === 100 || /Fichier reçu/.test(s.status)),
    `${what} : l'envoi n'est pas allé à son terme (${JSON.stringify(states)})`,
  );
}

describe("cas 2 du webinaire dans le navigateur", () => {
  const step = sequence();
  const scenario = require("../../demo/scenarios/cas-2.json");
  let server;
  let browser;
  let context;
  let page;
  let expected;
  const trace = [];
  const state = {};

  before(async () => {
    expected = expectedPlan(simulate("cas-2.json"));
    server = await startServer();
    browser = await launch();
    context = await newContext(browser, server.url);
    page = await context.newPage();
    page.on("dialog", (d) => d.accept());
    page.on("console", (m) => {
      const text = m.text();
      if (text.startsWith("upload-trace ")) {
        trace.push(text.slice("upload-trace ".length));
      }
    });
  });

  after(async () => {
    if (browser) {
      await browser.close();
    }
    if (server) {
      await server.stop();
    }
  });

  step("l'éditeur se connecte par le formulaire", async () => {
    await page.goto("/connexion");
    await screenshot(page, "connexion.png");
    await signIn(page, ACCOUNTS.vendor);
    await assert.doesNotReject(
      page.getByRole("button", { name: "Se déconnecter" }).waitFor(),
      "connecté",
    );
    // The session cookie is set over plain HTTP on 127.0.0.1 (a secure context), with the
    // `__Host-` prefix of secure cookies.
    const cookies = await context.cookies();
    assert.ok(
      cookies.some((c) => c.name === "__Host-preuves_session" && c.secure),
      "cookie de session posé",
    );
  });

  step("étape administrative du cas 2 : le plan se recalcule en direct", async () => {
    await page.goto("/candidatures/nouvelle");
    await fillCase2(page, scenario);
    // The live plan (fetch on input) shows the engine's plan before anything is saved.
    await page.waitForFunction(
      (n) => {
        const dl = document.querySelector("#plan dl.summary");
        return dl && Number(dl.dataset.inScope) === n && document.getElementById("plan-titre").dataset.updated;
      },
      expected.summary.in_scope,
      { timeout: 15_000 },
    );
    await page.waitForTimeout(600); // the last debounced refresh
    assertSamePlan(await shownPlan(page), expected, "aperçu en direct");
    await screenshot(page, "etape-administrative.png");
    await Promise.all([
      page.waitForURL(/\/candidatures\/\d+$/),
      page.getByRole("button", { name: "Ouvrir la candidature" }).click(),
    ]);
    state.id = page.url().match(/\/candidatures\/(\d+)$/)[1];
    await assert.doesNotReject(page.locator(".flash").waitFor());
  });

  step("le plan montre les masques avec leur règle, leur NRU et leur source", async () => {
    const shown = await shownPlan(page);
    assertSamePlan(shown, expected, "candidature enregistrée");
    const nru = scenario.candidature.nrus[0];
    const masked = Object.entries(shown.rows).filter(([, r]) => r.status !== "to_deposit");
    assert.ok(masked.length > 0, "des exigences sont masquées (équivalence avec le DPI)");
    for (const [id, r] of masked) {
      assert.equal(r.status, "masked_equivalence", id);
      assert.equal(r.rule, "R2", id);
      assert.equal(r.nru, nru, id);
      assert.ok(r.source, `${id} : exigence source`);
      assert.match(
        r.reasonText,
        /^Équivalence\s: exigence commune avec l'exigence .* règle R2$/,
        `${id} : la raison affichée dit la règle dans les mots du webinaire, puis son libellé`,
      );
      assert.equal((r.reasonText.match(/R2/g) || []).length, 1, `${id} : le libellé R2 une seule fois`);
      assert.ok(r.reasonText.includes(nru), `${id} : la raison affichée nomme le NRU`);
    }
    // R7: every INS requirement is to deposit, for the additional component.
    const ins = Object.entries(shown.rows).filter(([id]) => id.startsWith("INS"));
    assert.ok(ins.length > 0, "le chapitre INS est dans le périmètre");
    for (const [id, r] of ins) {
      assert.equal(r.status, "to_deposit", id);
    }
    assert.ok(
      Object.values(shown.rows).some((r) => r.rule === "R7" && r.component === "Module INS"),
      "R7 nomme le composant additionnel",
    );
    // The screenshot: the masked requirements and their reasons (server-side filter).
    await page.goto(`/candidatures/${state.id}?statut=masquees#plan`);
    await screenshot(page, "plan.png");
  });

  step("l'attestation sur l'honneur des noms commerciaux est jointe", async () => {
    await page.goto(`/candidatures/${state.id}`);
    assert.match(await page.content(), /attestation sur l'honneur sera exigée/);
    const form = page.locator(`form[action="/candidatures/${state.id}/attestation-honneur"]`);
    const states = await uploadWithProgress(
      page,
      form,
      [{ name: "attestation-sur-l-honneur.pdf", mimeType: "application/pdf", buffer: pdf("attestation sur l'honneur") }],
      trace,
    );
    assertProgressShown(states, "attestation sur l'honneur");
    assert.match(await page.content(), /Attestation sur l'honneur déposée/);
  });

  step("chaque preuve manquante est déposée avec la barre de progression", async () => {
    await page.goto(`/candidatures/${state.id}/preuves`);
    const pending = page.locator("details.expected li.missing form.upload");
    const total = await pending.count();
    assert.ok(total > 0, "des preuves sont attendues");
    assert.equal(
      await page.locator("details.expected form.upload").count(),
      total,
      "au départ, toutes les preuves attendues manquent",
    );
    for (let i = 0; i < total; i++) {
      const form = pending.first();
      const requirement = await form.locator("input[name=exigence]").inputValue();
      const states = await uploadWithProgress(page, form, [proofFile(i, requirement)], trace);
      assertProgressShown(states, `preuve ${i + 1} (${requirement})`);
      const alert = page.locator("main .alert");
      if (await alert.count()) {
        assert.fail(`dépôt refusé pour ${requirement} : ${await alert.first().innerText()}`);
      }
      assert.equal(await pending.count(), total - i - 1, `preuves restantes après ${requirement}`);
      if (i === 2) {
        await screenshot(page, "depot-preuves.png");
      }
    }
    await assert.doesNotReject(
      page.getByRole("heading", { name: "Dossier complet" }).waitFor(),
      "dossier complet",
    );
    state.deposited = total;
  });

  step("la candidature est déposée", async () => {
    await Promise.all([
      page.waitForURL(new RegExp(`/candidatures/${state.id}$`)),
      page.getByRole("button", { name: "Déposer la candidature" }).click(),
    ]);
    const lead = await page.locator("p.lead").innerText();
    assert.match(lead, /Le dossier est complet/);
    assertSamePlan(await shownPlan(page), expected, "plan figé au dépôt");
    await screenshot(page, "candidature-deposee.png");
    await page.goto("/candidatures");
    assert.match(await page.locator("table").innerText(), new RegExp(`n°\\s${state.id}`));
    await screenshot(page, "candidatures.png");
    await signOut(page);
    assert.equal(
      await page.getByRole("button", { name: "Se déconnecter" }).count(),
      0,
      "déconnecté",
    );
  });

  step("l'instructeur prend la candidature et juge chaque fichier conforme", async () => {
    await signIn(page, ACCOUNTS.instructor);
    await page.goto("/instruction");
    await screenshot(page, "instruction-file.png");
    await Promise.all([
      page.waitForURL(new RegExp(`/instruction/${state.id}$`)),
      page.locator(`main a[href="/instruction/${state.id}"]`).click(),
    ]);
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole("button", { name: "Prendre en instruction" }).click(),
    ]);
    const forms = page.locator("form.verdict");
    const total = await forms.count();
    assert.equal(total, state.deposited, "un verdict par fichier déposé");
    for (let i = 0; i < total; i++) {
      const form = forms.nth(i);
      await form.locator('input[name=verdict][value="compliant"]').check();
      await Promise.all([
        page.waitForNavigation(),
        form.getByRole("button", { name: "Enregistrer le verdict" }).click(),
      ]);
      assert.equal(await page.locator("main .alert").count(), 0, `verdict ${i + 1} enregistré`);
    }
    assert.equal(
      await page.locator('input[name=verdict][value="compliant"]:checked').count(),
      total,
      "tous les fichiers sont conformes",
    );
    await screenshot(page, "instruction-dossier.png");
  });

  step("l'instructeur accorde le référencement : NRU et attestation", async () => {
    await Promise.all([
      page.waitForURL(/\/referencements\/[^/]+$/),
      page.getByRole("button", { name: "Accorder le référencement" }).click(),
    ]);
    state.nru = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
    const flash = await page.locator(".flash").innerText();
    assert.ok(flash.includes(`NRU ${state.nru}`) || flash.includes(`NRU\u00a0${state.nru}`), `le NRU est annoncé : ${flash}`);
    assert.match(await page.locator("h1").innerText(), new RegExp(state.nru));
    // Every commercial name is on the referencing (R6).
    const facts = await page.locator("dl.facts").innerText();
    for (const name of scenario.candidature.commercial_names) {
      assert.ok(facts.includes(name), `nom commercial ${name}`);
    }
    await screenshot(page, "referencement-attribue.png");
    // The verification code is printed on the attestation, in its verification link.
    const pdfResponse = await page.request.get(`/referencements/${state.nru}/attestation`);
    assert.equal(pdfResponse.status(), 200);
    const body = (await pdfResponse.body()).toString("latin1");
    assert.ok(body.startsWith("%PDF-"), "l'attestation est un PDF");
    const link = body.match(/\/verifier\/([^?\s()]+)\?code=([A-Za-z0-9-]+)/);
    assert.ok(link, "le lien de vérification et son code figurent dans l'attestation");
    assert.equal(decodeURIComponent(link[1]), state.nru);
    state.code = link[2];
  });

  step("la page publique de vérification dit que l'attestation est valide", async () => {
    await signOut(page);
    await page.goto(`/verifier/${encodeURIComponent(state.nru)}?code=${encodeURIComponent(state.code)}`);
    assert.equal(
      await page.locator("#resultat").innerText(),
      `Référencement ${state.nru} valide`,
    );
    assert.match(
      await page.locator("section.box").innerText(),
      /Le code de vérification correspond à celui de l'attestation émise/,
    );
    await screenshot(page, "verification.png");
    await page.goto("/registre");
    assert.ok((await page.locator("main").innerText()).includes(state.nru), "au registre public");
    await screenshot(page, "registre.png");
  });

  step("l'administrateur : catalogue, import de REM, organisations", async () => {
    await signIn(page, ACCOUNTS.admin);
    await page.goto(`/catalogue/${scenario.candidature.dispositif}/${scenario.candidature.wave}`);
    assert.ok(await page.getByRole("link", { name: "Importer une nouvelle version" }).count());
    await screenshot(page, "admin-catalogue.png");
    await page.goto("/admin/import");
    await screenshot(page, "admin-import.png");
    await page.goto("/admin/organisations");
    assert.match(await page.locator("main").innerText(), /Éditeur Démo SAS/);
    await screenshot(page, "admin-organisations.png");
  });

  step("sans JavaScript : connexion et plan de preuves", async () => {
    const noJs = await newContext(browser, server.url, { javaScriptEnabled: false });
    try {
      const p = await noJs.newPage();
      await signIn(p, ACCOUNTS.vendor);
      await p.goto(`/candidatures/${state.id}`);
      assertSamePlan(await shownPlan(p), expected, "sans JavaScript, candidature déposée");
      // The administrative step's "Recalculer le plan" works as a plain form post.
      await p.goto("/candidatures/nouvelle");
      await fillCase2(p, scenario, { javascript: false });
      await Promise.all([
        p.waitForNavigation(),
        p.getByRole("button", { name: "Recalculer le plan" }).click(),
      ]);
      assert.match(await p.locator("main").innerText(), /ces valeurs ne sont pas enregistrées/);
      assertSamePlan(await shownPlan(p), expected, "sans JavaScript, aperçu");
    } finally {
      await noJs.close();
    }
  });
});
