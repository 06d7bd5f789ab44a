// The landing page (index.html): under each past session, its recordings
// (GET /api/sessions/{id}/recordings), each played in the page with a
// <video> element from the recording's download route.
"use strict";
(() => {
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clock(t) {
    const d = new Date(new Date(t).getTime() + 8 * 3600 * 1000); // China time
    if (isNaN(d)) return "";
    const pad = (n) => String(n).padStart(2, "0");
    return (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日 " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function size(n) {
    return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
  }

  async function recordings(li) {
    const a = li.querySelector('h3 a[href^="/live/"]');
    if (!a) return;
    const id = decodeURIComponent(a.getAttribute("href").slice("/live/".length));
    const resp = await fetch("/api/sessions/" + encodeURIComponent(id) + "/recordings");
    if (!resp.ok) return;
    const items = ((await resp.json()).items || []).filter((r) => r.url);
    if (!items.length) return;
    const box = el("div", "recordings");
    box.append(el("p", "rec-head", "直播回放（" + items.length + " 段）"));
    const player = el("video", "player");
    player.controls = true;
    player.preload = "none";
    player.hidden = true;
    player.setAttribute("aria-label", a.textContent + " 回放");
    const list = el("ul", "rec-list");
    for (const r of items) {
      const item = el("li");
      const play = el("button", "play", "▶ 播放 " + clock(r.start) + (r.anchor ? " · " + r.anchor : ""));
      play.type = "button";
      play.addEventListener("click", () => {
        player.src = r.url;
        player.hidden = false;
        player.play().catch(() => {});
        player.focus();
      });
      const dl = el("a", "download", "下载（" + size(r.size || 0) + "）");
      dl.href = r.url;
      item.append(play, dl);
      list.append(item);
    }
    box.append(list, player);
    li.append(box);
  }

  document.querySelectorAll(".sessions.past .session").forEach((li) => { recordings(li).catch(() => {}); });
})();
