// Small progressive enhancements of our own; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms marked data-confirm ask before submitting.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  // A submitted form's button is disabled, so a double click does not post twice.
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.setAttribute("aria-disabled", "true");
        button.classList.add("busy");
      }
    });
  }
});
