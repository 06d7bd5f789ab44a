// The chat panel of the watch page (live.html): joins the session's chat
// over a websocket with a nickname (no account), shows the messages and
// the bot's replies as they come, sends questions, "+1"s questions and
// rates answers. Every text is set with textContent: nothing a viewer
// writes is ever parsed as HTML. It reconnects by itself and resumes from
// the last message it saw.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const { sessionOf } = window.govliveCommon;
  const session = sessionOf("live");
  const token = (new URLSearchParams(location.search).get("token") || "").trim();
  const chat = window.govliveChat = { state: "idle", viewer: "", posts: 0, lastId: 0, notice: "" };
  const store = window.localStorage;
  let ws = null;
  let retry = 0;
  let timer = 0;
  const posts = new Map(); // id → element
  const clusters = new Map(); // cluster id → count
  const streaming = new Map(); // question id → element of a reply being written

  function key() {
    let k = store.getItem("govlive.chat.key");
    if (!k) {
      const a = new Uint8Array(16);
      crypto.getRandomValues(a);
      k = Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
      store.setItem("govlive.chat.key", k);
    }
    return k;
  }

  function setState(state, text) {
    chat.state = state;
    $("chat-state").textContent = text;
  }

  function notice(text) {
    chat.notice = text;
    $("chat-notice").textContent = text;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clock(t) {
    const d = new Date(t);
    return isNaN(d) ? "" : String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  // The national 好差评 scale. The rate frame carries the level (5 非常满意
  // … 1 非常不满意), which the server stores, and 👍/👎 beside it: the three
  // upper levels count as 好评 (up), the two lower as 差评 (down), as the
  // scheme itself counts them. The level chosen is kept in this browser,
  // and the welcome frame's "rated" (reply id → level, this viewer's own)
  // restores it after a reload or in another browser with the same key.
  const LEVELS = [
    ["非常满意", true], ["满意", true], ["基本满意", true], ["不满意", false], ["非常不满意", false],
  ];
  function keepRated(rated) {
    for (const [id, level] of Object.entries(rated || {})) {
      const l = LEVELS[5 - level];
      if (!l) continue;
      try { store.setItem("govlive.rated." + session + "." + id, l[0]); } catch (e) { /* private mode */ }
      const li = document.querySelector('#chat-list .post.bot[data-id="' + Number(id) + '"]');
      if (li) li.querySelectorAll("button.level").forEach((x) => x.setAttribute("aria-pressed", x.dataset.level === l[0] ? "true" : "false"));
    }
  }
  function ratedLevel(id) {
    try { return store.getItem("govlive.rated." + session + "." + id) || ""; } catch (e) { return ""; }
  }

  // textWithMasks writes a post's text into e, each run of "*" (personal
  // data the server masked) marked as such.
  function textWithMasks(e, text) {
    let masked = false;
    for (const part of String(text).split(/(\*{3,})/)) {
      if (!part) continue;
      if (/^\*{3,}$/.test(part)) {
        masked = true;
        const m = el("span", "masked", part);
        m.title = "已隐去的个人信息";
        m.setAttribute("aria-label", "已隐去的个人信息");
        e.append(m);
      } else {
        e.append(document.createTextNode(part));
      }
    }
    return masked;
  }

  // openSource shows the FAQ entry or the document a reply cites in a
  // dialog; a cited article of a document is marked and scrolled to.
  async function openSource(src, opener) {
    const dlg = $("source");
    const url = (src.kind === "doc" ? "/api/documents/" : "/api/faq/") + encodeURIComponent(src.id);
    $("source-title").textContent = src.label || "来源";
    $("source-meta").textContent = "正在读取…";
    $("source-body").replaceChildren();
    dlg.addEventListener("close", () => opener.focus(), { once: true });
    if (!dlg.open) dlg.showModal();
    try {
      const resp = await fetch(url);
      if (!resp.ok) throw new Error("无法读取来源（" + resp.status + "）");
      const d = await resp.json();
      const body = $("source-body");
      if (src.kind === "doc") {
        $("source-title").textContent = "《" + (d.title || src.id) + "》";
        $("source-meta").textContent = [d.issuer, d.effective ? "施行日期：" + d.effective : ""].filter(Boolean).join(" · ");
        const article = (/第[一二三四五六七八九十百零〇\d]+条/.exec(src.label || "") || [""])[0];
        let cited = null;
        for (const para of String(d.body || "").split(/\n\s*\n/)) {
          const text = para.replace(/^#+\s*/, "").trim();
          if (!text) continue;
          const p = el(/^#/.test(para.trim()) ? "h3" : "p", "", text);
          if (article && !cited && text.startsWith(article)) { p.className = "cited"; cited = p; }
          body.append(p);
        }
        if (cited) cited.scrollIntoView({ block: "center" });
      } else {
        $("source-title").textContent = d.question || src.label || "常见问题";
        $("source-meta").textContent = [d.category, d.updated ? "更新于 " + d.updated : ""].filter(Boolean).join(" · ");
        body.append(el("p", "", d.answer || ""));
      }
    } catch (e) {
      $("source-meta").textContent = e.message || String(e);
    }
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  // render makes the element of one post: a viewer's question (with its
  // "+1") or a bot reply (with its source and rating buttons).
  function render(p) {
    const bot = p.author && p.author.channel === "bot";
    const li = el("li", bot ? "post bot" : "post");
    li.dataset.id = p.id;
    const head = el("div", "head");
    head.append(el("span", "nick", bot ? (p.author.nick || "政务小助手") : (p.author.nick || "观众")));
    if (p.author && p.author.channel === "discord") head.append(el("span", "via", "来自 Discord"));
    head.append(el("span", "time", clock(p.time)));
    const body = el("div", "text");
    const masked = textWithMasks(body, p.text);
    li.append(head, body);
    if (masked && !bot) li.append(el("div", "masked-note", "为保护隐私，个人信息已隐去"));
    if (bot) {
      // A reply's text names its source already (来源：…, 根据《…》); a
      // pointer to an earlier reply does not, so its source is added.
      if (p.source && p.source.id) {
        const src = el("button", "source", "查看来源：" + (p.source.label || p.source.id));
        src.type = "button";
        src.setAttribute("aria-haspopup", "dialog");
        src.addEventListener("click", () => openSource(p.source, src));
        li.append(src);
      }
      const rate = el("div", "rate");
      rate.setAttribute("role", "group");
      rate.setAttribute("aria-label", "评价这个回答");
      rate.append(el("span", "rate-label", "评价："));
      const chosen = ratedLevel(p.id);
      for (const [i, [name, up]] of LEVELS.entries()) {
        const b = el("button", "level", name);
        b.type = "button";
        b.dataset.level = name;
        b.setAttribute("aria-pressed", chosen === name ? "true" : "false");
        b.addEventListener("click", () => {
          send({ type: "rate", id: p.id, up, level: 5 - i });
          try { store.setItem("govlive.rated." + session + "." + p.id, name); } catch (e) { /* private mode */ }
          rate.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", x === b ? "true" : "false"));
          notice("感谢您的评价：" + name);
        });
        rate.append(b);
      }
      const counts = el("span", "counts", "");
      rate.append(counts);
      li.append(rate);
      showRating(li, p.up || 0, p.down || 0);
    } else if (p.cluster) {
      li.dataset.cluster = p.cluster;
      const plus = el("button", "plus", "+1");
      plus.type = "button";
      plus.setAttribute("aria-label", "我也想问");
      plus.addEventListener("click", () => send({ type: "plus", id: p.id }));
      const count = el("span", "count", "");
      li.append(el("div", "tools"));
      li.lastChild.append(plus, count);
      showCount(li, clusters.get(p.cluster) || 0);
    }
    if (!bot && p.action === "escalate") li.append(el("div", "escalated", "已转给主播和直播帮办专员，请留意主播答复"));
    return li;
  }

  function showRating(li, up, down) {
    const c = li.querySelector(".counts");
    if (c) c.textContent = up || down ? "好评 " + up + " · 差评 " + down : "";
    chat.ratings = chat.ratings || {};
    chat.ratings[li.dataset.id] = { up, down };
  }

  function showCount(li, n) {
    const c = li.querySelector(".count");
    if (c) c.textContent = n > 1 ? n + " 人想问" : "";
  }

  function add(p) {
    if (posts.has(p.id)) return;
    const list = $("chat-list");
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const li = render(p);
    const s = p.reply_to && streaming.get(p.reply_to);
    if (s) {
      s.replaceWith(li);
      streaming.delete(p.reply_to);
    } else {
      list.append(li);
    }
    posts.set(p.id, li);
    chat.posts = posts.size;
    chat.lastId = Math.max(chat.lastId, p.id);
    while (list.children.length > 300) {
      const first = list.firstElementChild;
      posts.delete(Number(first.dataset.id));
      first.remove();
    }
    if (nearBottom) list.scrollTop = list.scrollHeight;
  }

  function onEvent(e) {
    switch (e.kind) {
      case "message":
        if (e.post && !e.post.hidden) add(e.post);
        break;
      case "reply_delta": {
        let s = streaming.get(e.id);
        if (!s) {
          s = el("li", "post bot streaming");
          s.append(el("div", "head", "政务小助手 正在回答…"), el("div", "text", ""));
          $("chat-list").append(s);
          streaming.set(e.id, s);
        }
        s.querySelector(".text").textContent += e.delta;
        break;
      }
      case "hidden": {
        const li = posts.get(e.id);
        if (li) { li.remove(); posts.delete(e.id); chat.posts = posts.size; }
        break;
      }
      case "cluster":
        if (e.cluster) {
          clusters.set(e.cluster.id, e.cluster.count);
          document.querySelectorAll('#chat-list li[data-cluster="' + e.cluster.id + '"]').forEach((li) => showCount(li, e.cluster.count));
        }
        break;
      case "rating": {
        const li = posts.get(e.id);
        if (li) showRating(li, e.up || 0, e.down || 0);
        break;
      }
      case "segment":
        if (window.govlive && window.govlive.setSegment) window.govlive.setSegment(e.segment || 0);
        break;
      case "pinned":
        showPinned(e.pinned);
        break;
      case "notice":
        notice(e.notice);
        break;
    }
  }

  function showPinned(text) {
    $("chat-pinned").textContent = text ? "📌 " + text : "";
    $("chat-pinned").hidden = !text;
  }

  function connect() {
    clearTimeout(timer);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let url = proto + "//" + location.host + "/api/sessions/" + encodeURIComponent(session) + "/chat/ws";
    if (token) url += "?token=" + encodeURIComponent(token);
    setState("connecting", "正在连接聊天…");
    ws = new WebSocket(url);
    ws.addEventListener("open", () => {
      send({ type: "join", nick: $("chat-nick").value.trim(), key: key(), after: chat.lastId });
    });
    ws.addEventListener("message", (m) => {
      let f;
      try { f = JSON.parse(m.data); } catch { return; }
      switch (f.type) {
        case "welcome":
          retry = 0;
          chat.viewer = f.viewer;
          if (!$("chat-nick").value.trim() && f.nick) $("chat-nick").value = f.nick;
          setState("connected", "已加入聊天");
          showPinned(f.pinned);
          if (window.govlive && window.govlive.setSegment) window.govlive.setSegment(f.segment || 0);
          keepRated(f.rated);
          (f.history || []).forEach(add);
          $("chat-send").disabled = false;
          break;
        case "event":
          onEvent(f.event);
          break;
        case "ack":
          if (f.refused) notice(f.refused);
          break;
        case "error":
          notice(f.error);
          break;
      }
    });
    ws.addEventListener("close", () => {
      $("chat-send").disabled = true;
      ws = null;
      const wait = Math.min(10000, 1000 * 2 ** retry++);
      setState("reconnecting", "聊天已断开，" + Math.round(wait / 1000) + " 秒后重连…");
      timer = setTimeout(connect, wait);
    });
  }

  function init() {
    $("chat-nick").value = store.getItem("govlive.chat.nick") || "";
    $("chat-nick").addEventListener("change", () => {
      store.setItem("govlive.chat.nick", $("chat-nick").value.trim());
      if (ws) ws.close(); // join again under the new name
    });
    $("chat-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("chat-text").value.trim();
      if (!text) return;
      if ([...text].length > 500) { notice("消息太长了，请控制在 500 个字以内。"); return; }
      notice("");
      send({ type: "say", text, ref: String(Date.now()) });
      $("chat-text").value = "";
    });
    $("chat-text").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        $("chat-form").requestSubmit();
      }
    });
    connect();
  }
  if (session) init();
})();
