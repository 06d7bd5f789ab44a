// The anchor console (/studio/{session}): go live over WHIP with a chosen
// camera and microphone, the stream's health, the question board, the
// bot's answers, the case queue, the run-sheet, the pinned announcement
// and moderation — all kept current by the console events websocket,
// which reconnects with back-off (and reloads the lists) after a loss.
// The page is for a logged-in anchor (or admin): the JSON API takes the
// login cookie, and every write carries the X-CSRF-Token of the page.
// No innerHTML anywhere (Trusted Types): the DOM is built with el().
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const root = $("console");
  const session = root.dataset.session;
  const me = root.dataset.anchor;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  let csrf = csrfMeta ? csrfMeta.content : "";
  const { errorText, gathered } = window.govliveCommon;
  const base = "/api/sessions/" + encodeURIComponent(session);

  // govlive is what the tests (and a curious anchor) read.
  const govlive = window.govlive = {
    state: "idle", error: "", codec: "", resource: "", ws: "connecting", wsConnects: 0,
    segment: 0, pinned: "", clusters: 0, cases: 0,
  };

  // el builds an element: el("li", {class: "x", "aria-label": "…"}, child, "text", …).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // announce tells screen readers what arrived (the lists re-render whole,
  // so they are not live regions themselves).
  function announce(text) {
    const box = $("announce");
    box.textContent = "";
    setTimeout(() => { box.textContent = text; }, 50);
  }

  function showError(msg) {
    const box = $("console-error");
    box.textContent = msg || "";
    box.hidden = !msg;
  }

  // api calls the JSON API; writes carry the CSRF token. It throws the
  // server's message.
  async function api(method, path, body) {
    const headers = {};
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(base + path, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
    if (resp.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
    if (!resp.ok) throw new Error(await errorText(resp));
    return resp.status === 204 ? null : resp.json();
  }

  // act runs a write and reports its failure on the page.
  async function act(what, fn) {
    try {
      showError("");
      return await fn();
    } catch (e) {
      showError(what + "失败：" + (e.message || e));
      return null;
    }
  }

  const timeFmt = new Intl.DateTimeFormat("zh-CN", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: "Asia/Shanghai" });
  const clock = (t) => { const d = new Date(t); return isNaN(d) ? "" : timeFmt.format(d); };
  function ago(t) {
    const s = Math.max(0, Math.round((Date.now() - new Date(t).getTime()) / 1000));
    if (s < 60) return s + " 秒前";
    if (s < 3600) return Math.floor(s / 60) + " 分钟前";
    return Math.floor(s / 3600) + " 小时前";
  }

  // ---- the session and the run-sheet --------------------------------

  let segments = [];
  function renderSegments() {
    const list = $("segments");
    list.replaceChildren();
    segments.forEach((sg, i) => {
      const n = i + 1;
      const current = n === govlive.segment;
      const li = el("li", { class: "segment" + (current ? " current" : ""), "aria-current": current ? "step" : null, id: "segment-" + n },
        el("div", { class: "segment-head" },
          el("span", { class: "segment-title" }, n + ". " + sg.title),
          current ? el("span", { class: "badge on" }, "进行中") :
            el("button", { type: "button", class: "small", "aria-label": "切换到第 " + n + " 环节：" + sg.title, onclick: () => setSegment(n) }, "切换到此环节")));
      if (sg.points && sg.points.length) {
        li.append(el("ul", { class: "points" }, ...sg.points.map((p) => el("li", {}, p))));
      }
      list.append(li);
    });
    const cur = segments[govlive.segment - 1];
    $("current-segment").textContent = cur ? govlive.segment + ". " + cur.title : (segments.length ? "未开始（不限环节）" : "本场没有环节");
    $("next-segment").disabled = govlive.segment >= segments.length;
    $("prev-segment").disabled = govlive.segment <= 0;
  }

  async function setSegment(n) {
    if (n < 0 || n > segments.length) return;
    const r = await act("切换环节", () => api("PUT", "/segment", { segment: n }));
    if (r) { govlive.segment = r.segment; renderSegments(); }
  }

  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.ctrlKey || e.metaKey) return;
    const next = (!e.altKey && !e.shiftKey && (e.key === "n" || e.key === "N")) || (e.altKey && e.key === "ArrowRight");
    const prev = e.altKey && e.key === "ArrowLeft";
    if (next) { e.preventDefault(); setSegment(govlive.segment + 1); }
    if (prev) { e.preventDefault(); setSegment(govlive.segment - 1); }
  });
  $("next-segment").addEventListener("click", () => setSegment(govlive.segment + 1));
  $("prev-segment").addEventListener("click", () => setSegment(govlive.segment - 1));

  // ---- pinned announcement --------------------------------------------

  function renderPinned() {
    $("pinned-now").textContent = govlive.pinned || "无";
    $("unpin").disabled = !govlive.pinned;
  }
  async function pin(text) {
    const r = await act("置顶公告", () => api("PUT", "/pinned", { text }));
    if (r) { govlive.pinned = r.pinned; renderPinned(); if (text) $("pin-text").value = ""; }
  }
  $("pin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("pin-text").value.trim();
    if (!text) { showError("请先填写公告内容"); $("pin-text").focus(); return; }
    pin(text);
  });
  $("unpin").addEventListener("click", () => pin(""));

  // ---- question board ---------------------------------------------------

  const clusters = new Map();
  const actionText = { answer: "已回复", escalate: "已转人工", decline: "未回答", moderate: "已拦截" };
  function mergeCluster(c) {
    const old = clusters.get(c.id);
    if (old && c.askers) {
      // a live event carries only the latest askers: keep the earlier ones
      const seen = new Set(c.askers.map((a) => a.channel + ":" + a.id));
      c.askers = c.askers.concat((old.askers || []).filter((a) => !seen.has(a.channel + ":" + a.id)));
    }
    clusters.set(c.id, Object.assign({}, old || {}, c));
  }
  function renderClusters() {
    const list = [...clusters.values()];
    if ($("board-sort").value === "recent") {
      list.sort((a, b) => new Date(b.last) - new Date(a.last) || b.count - a.count);
    } else {
      list.sort((a, b) => b.count - a.count || new Date(b.last) - new Date(a.last));
    }
    govlive.clusters = list.length;
    $("board-count").textContent = "共 " + list.length + " 组问题";
    const ol = $("clusters");
    ol.replaceChildren(...list.slice(0, 100).map((c) => {
      const askers = (c.askers || []).map((a) => a.nick || "观众").filter(Boolean);
      const shown = askers.slice(0, 6).join("、") + (askers.length > 6 ? " 等" : "");
      return el("li", { class: "cluster", id: "cluster-" + c.id },
        el("div", { class: "cluster-count", "aria-label": c.count + " 人次提问" }, String(c.count)),
        el("div", { class: "cluster-body" },
          el("p", { class: "cluster-text" }, c.text),
          el("p", { class: "meta" },
            (c.action ? el("span", { class: "badge " + (c.action === "answer" ? "on" : "warn") }, actionText[c.action] || c.action) : null),
            " 最近 " + ago(c.last) + (c.plus ? " · +1 共 " + c.plus : "") + (shown ? " · 提问者：" + shown : ""))));
    }));
    if (!list.length) ol.append(el("li", { class: "muted" }, "还没有观众提问"));
  }
  $("board-sort").addEventListener("change", renderClusters);

  // ---- messages and the bot's answers -------------------------------------

  const posts = new Map(); // id → post (viewers' messages and bot replies)
  function addPost(p) {
    const old = posts.get(p.id);
    posts.set(p.id, Object.assign({}, old || {}, p));
  }
  function renderAnswers() {
    const list = [...posts.values()].filter((p) => p.reply_to).sort((a, b) => b.id - a.id).slice(0, 50);
    const ol = $("answers");
    ol.replaceChildren(...list.map((p) => {
      const q = posts.get(p.reply_to);
      return el("li", { class: "post bot" + (p.hidden ? " hidden-post" : ""), id: "answer-" + p.id },
        q ? el("p", { class: "meta" }, "回复 " + (q.author && q.author.nick || "观众") + "：" + q.text) : null,
        el("p", { class: "post-text" }, p.text),
        el("p", { class: "meta" }, clock(p.time) + (p.source && p.source.label ? " · 来源：" + p.source.label : "") +
          (p.generated ? " · 模型生成" : "") + ((p.up || p.down) ? " · 👍 " + (p.up || 0) + " 👎 " + (p.down || 0) : "") +
          (p.hidden ? " · 已隐藏" : "")));
    }));
    if (!list.length) ol.append(el("li", { class: "muted" }, "机器人还没有回复"));
  }
  function renderMessages() {
    const list = [...posts.values()].filter((p) => !p.reply_to && p.author && p.author.channel !== "bot").sort((a, b) => b.id - a.id).slice(0, 80);
    const ol = $("messages");
    ol.replaceChildren(...list.map((p) => {
      const nick = (p.author && p.author.nick) || "观众";
      return el("li", { class: "post" + (p.hidden ? " hidden-post" : ""), id: "message-" + p.id },
        el("p", { class: "meta" }, nick + (isMuted(p.author) ? "（已禁言）" : "") + " · " + clock(p.time) + (p.action ? " · " + (actionText[p.action] || p.action) : "") +
          (p.hidden ? " · 已隐藏" + (p.hidden_by ? "（" + p.hidden_by + "）" : "") : "")),
        el("p", { class: "post-text" }, p.text),
        el("div", { class: "buttons" },
          el("button", { type: "button", class: "small", disabled: p.hidden, "aria-label": "隐藏 " + nick + " 的留言",
            onclick: () => act("隐藏留言", async () => { addPost(await api("POST", "/messages/" + p.id + "/hide")); renderPosts(); }) }, "隐藏"),
          isMuted(p.author) ?
            el("button", { type: "button", class: "small", "aria-label": "解除 " + nick + " 的禁言", onclick: () => unmute(p.author) }, "解除禁言") :
            el("button", { type: "button", class: "small danger", "aria-label": "禁言 " + nick, onclick: () => mute(p.author) }, "禁言")));
    }));
    if (!list.length) ol.append(el("li", { class: "muted" }, "还没有留言"));
  }
  function renderPosts() { renderAnswers(); renderMessages(); }

  const muted = new Map();
  async function mute(author) {
    const minutes = Number($("mute-minutes").value);
    const m = await act("禁言", () => api("POST", "/mutes", { viewer: author.id, nick: author.nick || "", minutes }));
    if (m) {
      muted.set(m.viewer, m); renderMessages();
      notice("已禁言 " + (author.nick || "观众") + (minutes ? " " + minutes + " 分钟" : "（本场）"));
    }
  }
  async function unmute(author) {
    const m = await act("解除禁言", () => api("DELETE", "/mutes/" + encodeURIComponent(author.id)));
    if (m) {
      muted.set(m.viewer, m); renderMessages();
      notice("已解除 " + (author.nick || "观众") + " 的禁言");
    }
  }
  function isMuted(author) {
    const m = author && muted.get(author.id);
    return !!m && m.active !== false && (!m.until || new Date(m.until) > new Date());
  }
  function notice(text) {
    const s = $("ws-state");
    s.dataset.notice = text;
    const box = $("console-error");
    box.textContent = text;
    box.className = "notice";
    box.hidden = false;
    setTimeout(() => { if (box.textContent === text) { box.hidden = true; box.className = "error"; } }, 5000);
  }

  // ---- cases --------------------------------------------------------------

  const cases = new Map();
  let caseCounts = {};
  const stateText = { open: "待认领", claimed: "已认领", on_air: "直播处理中", resolved: "已办结", referred: "已转办" };
  const reasonText = { pii: "含个人信息", urgent: "紧急", complaint: "投诉", personal_case: "个人事项", human_request: "要求人工", low_confidence: "机器人无把握" };
  const ratingText = { 5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意" };

  async function moveCase(c, action, body) {
    const r = await act(({ claim: "认领", on_air: "上麦处理", resolve: "办结", refer: "转办", rate: "记录满意度" })[action] || action,
      () => api("POST", "/cases/" + c.id + "/" + action, body));
    if (r) { cases.set(r.id, r); renderCases(); }
  }

  function caseItem(c) {
    const id = "case-" + c.id;
    const li = el("li", { class: "case state-" + c.state, id },
      el("div", { class: "case-head" },
        el("span", { class: "badge " + (c.state === "open" ? "warn" : c.state === "resolved" || c.state === "referred" ? "off" : "on") }, stateText[c.state] || c.state),
        el("span", { class: "meta" }, "#" + c.id + " · " + (reasonText[c.reason] || c.reason) + " · " + (c.viewer && c.viewer.nick || "观众") + " · " + clock(c.opened))),
      el("p", { class: "case-question" }, c.question),
      c.anchor ? el("p", { class: "meta" }, "认领人：" + c.anchor + (c.referred_to ? " · 转至：" + c.referred_to : "") + (c.note ? " · 说明：" + c.note : "")) : null,
      c.rating ? el("p", { class: "meta" }, "满意度：" + (ratingText[c.rating] || c.rating) + (c.rating_note ? "（" + c.rating_note + "）" : "")) : null);
    const btns = el("div", { class: "buttons" });
    if (c.state === "open") {
      btns.append(el("button", { type: "button", class: "primary small", id: id + "-claim", onclick: () => moveCase(c, "claim") }, "认领"));
    }
    if (c.state === "claimed") {
      btns.append(el("button", { type: "button", class: "small", id: id + "-on-air", onclick: () => moveCase(c, "on_air") }, "上麦处理"));
    }
    li.append(btns);
    if (c.state === "claimed" || c.state === "on_air") {
      const note = el("textarea", { id: id + "-note", rows: 2, maxlength: 1000 });
      const to = el("input", { type: "text", id: id + "-to", maxlength: 100 });
      li.append(el("div", { class: "stack case-form" },
        el("label", { for: id + "-note" }, "办理说明（办结或转办时记录）"), note,
        el("label", { for: id + "-to" }, "转办至（窗口或部门，转办时填写）"), to,
        el("div", { class: "buttons" },
          el("button", { type: "button", class: "primary small", id: id + "-resolve", onclick: () => moveCase(c, "resolve", { note: note.value.trim() }) }, "办结"),
          el("button", { type: "button", class: "small", id: id + "-refer", onclick: () => {
            if (!to.value.trim()) { showError("转办须写明窗口或部门"); to.focus(); return; }
            moveCase(c, "refer", { to: to.value.trim(), note: note.value.trim() });
          } }, "转办"))));
    }
    if ((c.state === "resolved" || c.state === "referred") && !c.rating) {
      const sel = el("select", { id: id + "-rating" }, el("option", { value: "" }, "请选择"),
        ...[5, 4, 3, 2, 1].map((n) => el("option", { value: n }, ratingText[n])));
      const rnote = el("input", { type: "text", id: id + "-rating-note", maxlength: 500 });
      li.append(el("div", { class: "stack case-form" },
        el("label", { for: id + "-rating" }, "群众满意度（好差评）"), sel,
        el("label", { for: id + "-rating-note" }, "评价备注（可选）"), rnote,
        el("div", { class: "buttons" },
          el("button", { type: "button", class: "small", id: id + "-rate", onclick: () => {
            if (!sel.value) { showError("请选择满意度"); sel.focus(); return; }
            moveCase(c, "rate", { rating: Number(sel.value), note: rnote.value.trim() });
          } }, "记录满意度"))));
    }
    return li;
  }

  function renderCases() {
    const active = $("case-filter").value === "active";
    const order = { on_air: 0, claimed: 1, open: 2, resolved: 3, referred: 3 };
    const list = [...cases.values()].filter((c) => !active || c.state === "open" || c.state === "claimed" || c.state === "on_air")
      .sort((a, b) => order[a.state] - order[b.state] || a.id - b.id);
    govlive.cases = list.length;
    // keep what the anchor is typing and where the focus is
    const focus = document.activeElement && document.activeElement.id;
    const typed = {};
    $("cases").querySelectorAll("textarea, input, select").forEach((f) => { typed[f.id] = f.value; });
    $("cases").replaceChildren(...list.map(caseItem));
    for (const [k, v] of Object.entries(typed)) { const f = $(k); if (f) f.value = v; }
    if (focus && $(focus) && root.contains($(focus))) $(focus).focus();
    if (!list.length) $("cases").append(el("li", { class: "muted" }, active ? "没有待处理的帮办事项" : "还没有帮办事项"));
    const counts = {};
    for (const c of cases.values()) counts[c.state] = (counts[c.state] || 0) + 1;
    caseCounts = counts;
    $("case-counts").textContent = "（待认领 " + (counts.open || 0) + " · 处理中 " + ((counts.claimed || 0) + (counts.on_air || 0)) + "）";
  }
  $("case-filter").addEventListener("change", renderCases);

  // ---- loading and the events websocket -------------------------------

  async function loadAll() {
    const [ss, chat, cl, cs, msgs] = await Promise.all([
      api("GET", ""), api("GET", "/chat?limit=1"), api("GET", "/clusters?limit=200"),
      api("GET", "/cases?limit=200").catch(() => ({ cases: [] })), api("GET", "/messages?limit=200"),
    ]);
    segments = ss.segments || [];
    $("session-title").textContent = ss.title;
    govlive.segment = chat.segment || 0;
    govlive.pinned = chat.pinned || "";
    clusters.clear();
    (cl.clusters || []).forEach(mergeCluster);
    cases.clear();
    (cs.cases || []).forEach((c) => cases.set(c.id, c));
    posts.clear();
    (msgs.messages || []).forEach(addPost);
    renderSegments(); renderPinned(); renderClusters(); renderCases(); renderPosts();
  }

  // While the lists load (after a (re)connect), events wait: the lists may
  // be older than them. They are upserts, so replaying one the lists
  // already hold does no harm.
  let loading = false, pending = [];
  async function reload() {
    loading = true;
    try {
      await loadAll();
    } catch (e) {
      showError("加载失败：" + (e.message || e));
    } finally {
      loading = false;
      const queued = pending.splice(0);
      queued.forEach((e) => onEvent(e, true));
    }
  }

  function onEvent(e, replay) {
    if (loading) { pending.push(e); return; }
    switch (e.kind) {
      case "message":
        if (e.post) {
          const fresh = !posts.has(e.post.id);
          addPost(e.post); renderPosts();
          if (fresh && !replay && !e.post.reply_to && e.post.author && e.post.author.channel !== "bot") {
            announce("新留言：" + (e.post.author.nick || "观众") + "：" + e.post.text);
          }
        }
        break;
      case "reply_delta": {
        const p = posts.get(e.id);
        if (p) { p.text = (p.text || "") + (e.delta || ""); renderAnswers(); }
        break;
      }
      case "hidden": {
        const p = posts.get(e.id);
        if (p) { p.hidden = true; renderPosts(); }
        break;
      }
      case "rating": {
        const p = posts.get(e.id);
        if (p) { p.up = e.up; p.down = e.down; renderAnswers(); }
        break;
      }
      case "cluster":
        if (e.cluster) { mergeCluster(e.cluster); renderClusters(); }
        break;
      case "case":
        if (e.case) {
          const fresh = !cases.has(e.case.id);
          cases.set(e.case.id, e.case); renderCases();
          if (fresh && !replay) announce("新的帮办事项：" + e.case.question);
        }
        break;
      case "pinned":
        govlive.pinned = e.pinned || ""; renderPinned();
        break;
      case "segment":
        govlive.segment = e.segment || 0; renderSegments();
        break;
      case "muted":
        if (e.muted) { muted.set(e.muted.viewer, e.muted); renderMessages(); }
        break;
    }
  }

  let ws = null, backoff = 1000, retry = null;
  function setWS(state, text) {
    govlive.ws = state;
    $("ws-state").textContent = text;
    $("ws-state").className = "ws-" + state;
  }
  function connect() {
    clearTimeout(retry);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + location.host + base + "/events/ws");
    setWS("connecting", "正在连接…");
    ws.addEventListener("open", () => {
      backoff = 1000;
      govlive.wsConnects++;
      setWS("open", "已连接");
      // what happened while the socket was down is in the lists
      reload();
    });
    ws.addEventListener("message", (m) => {
      try { onEvent(JSON.parse(m.data)); } catch (e) { console.error("console event", e); }
    });
    ws.addEventListener("close", () => {
      const wait = backoff;
      backoff = Math.min(backoff * 2, 30000);
      setWS("closed", "连接中断，" + Math.round(wait / 1000) + " 秒后重连…");
      retry = setTimeout(connect, wait + Math.random() * 300);
    });
  }
  govlive.dropSocket = () => { if (ws) ws.close(); }; // for the tests
  setInterval(() => { if (clusters.size) renderClusters(); }, 30000); // keep "N 分钟前" true

  // ---- going live ---------------------------------------------------------

  const pubText = { idle: "未开播", media: "正在打开摄像头和麦克风…", preview: "预览中（未开播）", connecting: "正在连接…",
    live: "直播中", failed: "连接中断", stopped: "已停止", error: "出错了" };
  let media = null, pc = null, token = "";
  function setPub(state, error) {
    govlive.state = state;
    govlive.error = error || "";
    $("pub-state").textContent = pubText[state] + (state === "live" && govlive.codec ? "（" + govlive.codec + "）" : "");
    $("pub-error").textContent = govlive.error;
    $("pub-error").hidden = !govlive.error;
    const busy = state === "connecting" || state === "live";
    $("start").disabled = busy || state === "media";
    $("stop").disabled = !busy;
    $("camera").disabled = busy;
    $("microphone").disabled = busy;
    $("preview-btn").disabled = busy || state === "media";
  }

  // listDevices fills the camera and microphone lists (labels once the
  // page may use the devices).
  async function listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devs = await navigator.mediaDevices.enumerateDevices();
    for (const [sel, kind, word] of [[$("camera"), "videoinput", "摄像头"], [$("microphone"), "audioinput", "麦克风"]]) {
      const keep = sel.value;
      const list = devs.filter((d) => d.kind === kind);
      sel.replaceChildren(el("option", { value: "" }, "默认" + word),
        ...list.map((d, i) => el("option", { value: d.deviceId }, d.label || word + " " + (i + 1))));
      if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
    }
  }

  async function openMedia() {
    if (!window.isSecureContext || !navigator.mediaDevices) {
      throw new Error("浏览器只在 HTTPS 页面（或本机 localhost）上开放摄像头和麦克风");
    }
    const cam = $("camera").value, mic = $("microphone").value;
    if (media) media.getTracks().forEach((t) => t.stop());
    media = await navigator.mediaDevices.getUserMedia({
      video: cam ? { deviceId: { exact: cam } } : true,
      audio: mic ? { deviceId: { exact: mic } } : true,
    });
    $("preview").srcObject = media;
    await listDevices().catch(() => {});
  }

  async function preview() {
    setPub("media");
    try { await openMedia(); setPub("preview"); } catch (e) { setPub("error", e.message || String(e)); }
  }

  async function negotiatedCodec() {
    const stats = await pc.getStats();
    let codec = "";
    stats.forEach((s) => {
      if (s.type === "outbound-rtp" && s.kind === "video" && s.codecId && stats.get(s.codecId)) {
        codec = stats.get(s.codecId).mimeType.replace(/^video\//, "");
      }
    });
    return codec;
  }

  async function start() {
    govlive.codec = "";
    setPub("media");
    try {
      if (!media || media.getTracks().some((t) => t.readyState === "ended")) await openMedia();
      const grant = await api("POST", "/console/publish");
      token = grant.token;
      const config = await (await fetch("/api/stream/config")).json();
      const conn = pc = window.pc = new RTCPeerConnection({ iceServers: config.ice_servers || [] });
      conn.addEventListener("connectionstatechange", async () => {
        if (conn !== pc) return;
        if (conn.connectionState === "connected") {
          govlive.codec = await negotiatedCodec();
          setPub("live");
          pollStats();
        } else if (conn.connectionState === "failed") {
          setPub("failed", "与服务器的媒体连接失败，请停止后重新开播");
        }
      });
      for (const track of media.getTracks()) conn.addTransceiver(track, { direction: "sendonly", streams: [media] });
      setPub("connecting");
      await conn.setLocalDescription(await conn.createOffer());
      await gathered(conn, 2000);
      const resp = await fetch("/whip/" + encodeURIComponent(session), {
        method: "POST",
        headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + token },
        body: conn.localDescription.sdp,
      });
      if (resp.status !== 201) throw new Error("推流失败：" + await errorText(resp));
      const loc = resp.headers.get("Location");
      if (loc) govlive.resource = new URL(loc, resp.url).href;
      await conn.setRemoteDescription({ type: "answer", sdp: await resp.text() });
    } catch (e) {
      release();
      setPub("error", e.message || String(e));
    }
  }

  function release(keepalive) {
    const resource = govlive.resource;
    govlive.resource = "";
    if (resource) fetch(resource, { method: "DELETE", headers: { Authorization: "Bearer " + token }, keepalive: !!keepalive }).catch(() => {});
    if (pc) pc.close();
    pc = window.pc = null;
    if (media) media.getTracks().forEach((t) => t.stop());
    media = null;
    $("preview").srcObject = null;
  }
  function stop() { release(); setPub("stopped"); pollStats(); }

  $("preview-btn").addEventListener("click", preview);
  $("start").addEventListener("click", start);
  $("stop").addEventListener("click", stop);
  window.addEventListener("pagehide", () => release(true));
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", () => listDevices().catch(() => {}));
  }

  // ---- stream health --------------------------------------------------------

  const pct = (x) => (x * 100).toFixed(1) + "%";
  function kbps(bps) { return bps >= 1e6 ? (bps / 1e6).toFixed(2) + " Mbps" : Math.round(bps / 1000) + " kbps"; }
  let polling = null;
  async function pollStats() {
    clearTimeout(polling);
    try {
      const st = await api("GET", "/stats");
      $("h-bitrate").textContent = kbps(st.bitrate_in_bps || 0);
      $("h-viewers").textContent = String(st.viewers || 0) + " 人";
      $("h-loss").textContent = pct(st.loss_in || 0);
      $("h-vloss").textContent = pct(st.viewer_loss || 0);
      $("h-keyframes").textContent = String(st.keyframe_requests || 0) + " 次";
      const anchors = st.anchors || [];
      govlive.liveAnchors = anchors.map((a) => a.anchor);
      $("live-anchors").replaceChildren(...anchors.map((a) =>
        el("li", {}, el("span", { class: "dot", "aria-hidden": "true" }), a.anchor + (a.anchor === me ? "（我）" : "") +
          " · " + (a.slot >= 0 ? "画面 " + (a.slot + 1) : "等待空位") + (a.video ? " · " + a.video.replace(/^video\//, "") : "") +
          " · 自 " + clock(a.since))));
      if (!anchors.length) $("live-anchors").append(el("li", { class: "muted" }, "暂无主播在线"));
      if (pc) {
        const s = await pc.getStats();
        let kf = 0;
        s.forEach((r) => { if (r.type === "outbound-rtp" && r.kind === "video") kf += r.keyFramesEncoded || 0; });
        $("h-sent-keyframes").textContent = kf + " 帧";
      }
    } catch (e) {
      $("h-bitrate").textContent = "—";
    }
    polling = setTimeout(pollStats, 3000);
  }

  // ---- start ----------------------------------------------------------------

  setPub("idle");
  renderPinned();
  listDevices().catch(() => {});
  (async () => {
    if (!csrf) {
      const r = await fetch("/api/me", { credentials: "same-origin" });
      if (r.ok) csrf = (await r.json()).csrf_token || "";
    }
  })().catch(() => {});
  connect();
  pollStats();
})();
