// Small progressive enhancements of our own; every page works without this file.
"use strict";

// Replaces the whole page with an HTML response (a page re-rendered with its messages).
function showResponsePage(html, url) {
  if (url && url !== window.location.href) {
    window.history.replaceState(null, "", url);
  }
  document.open();
  document.write(html);
  document.close();
}

// Filters the proof plan in place from its selects (the form also works as a plain GET).
function bindPlanFilters(root) {
  const form = root.querySelector("form[data-plan-filters]");
  if (!form) {
    return;
  }
  const apply = () => {
    const chapter = form.elements.chapitre.value;
    const profile = form.elements.profil.value;
    const status = form.elements.statut.value;
    let shown = 0;
    let total = 0;
    for (const section of root.querySelectorAll("section.chapter")) {
      let visible = 0;
      for (const row of section.querySelectorAll("li.req")) {
        total += 1;
        const d = row.dataset;
        const statusOk =
          status === "" ||
          (status === "a_deposer" && d.statut === "to_deposit") ||
          (status === "manquantes" && d.statut === "to_deposit" && d.manquantes !== "0") ||
          (status === "masquees" && d.statut !== "to_deposit") ||
          (status === "heritage" && d.statut === "masked_heritage") ||
          (status === "equivalence" && d.statut === "masked_equivalence");
        const ok = (chapter === "" || d.chapitre === chapter) && (profile === "" || d.profil === profile) && statusOk;
        row.hidden = !ok;
        if (ok) {
          visible += 1;
        }
      }
      section.hidden = visible === 0;
      shown += visible;
    }
    const count = form.querySelector("[data-plan-count]");
    if (count && total > 0) {
      count.textContent = `${shown} exigence(s) affichée(s) sur ${total}`;
    }
  };
  // Rows filtered out by the server are not in the page: only filter in place when all are.
  const complete = form.querySelector("[data-plan-count]");
  form.addEventListener("change", () => {
    if (complete && /sur (\d+)$/.test(complete.textContent)) {
      const [, total] = complete.textContent.match(/sur (\d+)$/);
      if (root.querySelectorAll("li.req").length === Number(total)) {
        apply();
        return;
      }
    }
    form.requestSubmit();
  });
}

// Recomputes the plan as the administrative step is edited, without saving anything.
function bindLivePlan(form) {
  // Not `form.action`: the form's buttons named "action" shadow that property.
  const target = new URL(form.getAttribute("action") || "", document.baseURI).href;
  let timer = null;
  let sequence = 0;
  // The profiles offered are the target dispositif's: when the target changes, the fresh
  // answer's profile checkboxes replace the current ones.
  let targetChanged = false;
  const refresh = async () => {
    const mine = ++sequence;
    const withProfiles = targetChanged;
    targetChanged = false;
    const data = new URLSearchParams(new FormData(form));
    data.set("action", "apercu");
    try {
      const response = await fetch(target, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      const html = await response.text();
      if (mine !== sequence) {
        return; // A newer edit is already on its way.
      }
      const page = new DOMParser().parseFromString(html, "text/html");
      const freshProfiles = page.getElementById("profils");
      const currentProfiles = document.getElementById("profils");
      if (withProfiles && freshProfiles && currentProfiles) {
        currentProfiles.replaceWith(freshProfiles);
      }
      const fresh = page.getElementById("plan");
      const current = document.getElementById("plan");
      if (fresh && current) {
        current.replaceWith(fresh);
        bindPlanFilters(fresh);
        const status = document.getElementById("plan-titre");
        if (status) {
          status.dataset.updated = String(mine);
        }
      }
    } catch (_) {
      // Offline or refused: the buttons still work.
    }
  };
  const schedule = (event) => {
    if (event.target && event.target.name === "dispositif") {
      targetChanged = true;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
}

// Adds an empty component row once the last one is being filled.
function bindComponentRows(form) {
  form.addEventListener("input", (event) => {
    const row = event.target.closest("[data-component-row]");
    if (!row || row.nextElementSibling?.matches("[data-component-row]")) {
      return;
    }
    const clone = row.cloneNode(true);
    for (const input of clone.querySelectorAll("input")) {
      input.value = "";
    }
    const label = clone.querySelector("label");
    const count = form.querySelectorAll("[data-component-row]").length + 1;
    if (label && label.firstChild) {
      label.firstChild.textContent = `Composant n°\u00a0${count} `;
    }
    row.after(clone);
  });
}

// Uploads with a progress bar; the server's answer (next page or error) replaces the page.
function bindUpload(form) {
  form.addEventListener("submit", (event) => {
    const input = form.querySelector("input[type=file]");
    const progress = form.querySelector("progress");
    const status = form.querySelector(".upload-status");
    const max = Number(form.dataset.max || "0");
    if (input && max > 0) {
      for (const file of input.files) {
        if (file.size > max) {
          event.preventDefault();
          event.stopImmediatePropagation();
          if (status) {
            status.textContent = `« ${file.name} » dépasse la taille maximale autorisée (${form.dataset.maxLabel}).`;
          }
          return;
        }
        if (file.size === 0) {
          event.preventDefault();
          event.stopImmediatePropagation();
          if (status) {
            status.textContent = `« ${file.name} » est vide.`;
          }
          return;
        }
      }
    }
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    if (progress) {
      progress.hidden = false;
      progress.value = 0;
    }
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && progress) {
        progress.value = Math.round((e.loaded / e.total) * 100);
        if (status) {
          status.textContent = `Envoi : ${progress.value} %`;
        }
      }
    });
    xhr.upload.addEventListener("load", () => {
      if (status) {
        status.textContent = "Fichier reçu, vérification et enregistrement…";
      }
    });
    xhr.addEventListener("load", () => showResponsePage(xhr.responseText, xhr.responseURL));
    xhr.addEventListener("error", () => {
      if (status) {
        status.textContent = "L'envoi a été interrompu : aucun fichier n'a été enregistré. Réessayez.";
      }
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.removeAttribute("aria-disabled");
        button.classList.remove("busy");
      }
    });
    xhr.send(new FormData(form));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  // Forms marked data-confirm ask before submitting.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    });
  }
  for (const form of document.querySelectorAll("form[data-upload]")) {
    bindUpload(form);
  }
  for (const form of document.querySelectorAll("form[data-live-plan]")) {
    bindLivePlan(form);
    bindComponentRows(form);
  }
  const plan = document.getElementById("plan");
  if (plan) {
    bindPlanFilters(plan);
  }
  // A submitted form's button is disabled, so a double click does not post twice.
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", (event) => {
      if (event.defaultPrevented && !form.matches("[data-upload]")) {
        return;
      }
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.setAttribute("aria-disabled", "true");
        button.classList.add("busy");
      }
    });
  }
});
