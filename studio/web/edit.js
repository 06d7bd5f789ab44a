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

// a copy button beside a token shown once
for (const btn of document.querySelectorAll("button[data-copy]")) {
  btn.addEventListener("click", async () => {
    const input = document.getElementById(btn.dataset.copy);
    const out = document.querySelector(`[data-copied="${btn.dataset.copy}"]`);
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      if (out) out.textContent = "已复制到剪贴板";
    } catch {
      if (out) out.textContent = "无法自动复制：令牌已选中，请按 Ctrl+C 复制";
    }
  });
}
