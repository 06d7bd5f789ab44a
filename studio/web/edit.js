// The editors' pages: a confirmation before a restore, and a warning
// before leaving a form with unsaved changes. The pages work without it.
"use strict";

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (ev) => {
    if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
  });
}

for (const form of document.querySelectorAll("form[data-guard]")) {
  let dirty = false;
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("submit", () => { dirty = false; });
  window.addEventListener("beforeunload", (ev) => {
    if (dirty) ev.preventDefault();
  });
}
