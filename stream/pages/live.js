// The watch page (live.html): reads the session from its path
// (/live/{session}), shows its title and schedule, and plays its slots
// over WHEP. A ?token= in the page's URL (an anchor watching a private
// session) is sent as a bearer token on the page's requests.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const token = (params.get("token") || "").trim();
  const { sessionOf, auth, errorText, gathered } = window.govliveCommon;
  const session = sessionOf("live");
  const sessionURL = "/api/sessions/" + encodeURIComponent(session);
  const stateText = {
    idle: "未开始", connecting: "正在连接…", connected: "已连接", failed: "连接中断",
    stopped: "已停止", error: "出错了", notfound: "找不到该直播",
  };
  // Each slot: its tile, video element, MediaStream, and when it last decoded a frame.
  const govlive = window.govlive = { state: "idle", session, title: "", error: "", resource: "", slots: [], segment: 0, segmentTitle: "", layout: 0, reconnects: 0, timing: {} };
  const STALL_MS = 2000;
  let info = null; // the session as /api/sessions/{id} answered it
  let slots = [];
  let poller = 0;
  let retry = 0; // reconnection attempts since the last connection
  let retryTimer = 0;
  let wanted = true; // the viewer wants to watch (not stopped)
  let lossTimer = 0;

  // Elder mode (长辈模式): larger text and touch targets, remembered.
  const ELDER = "govlive.elder";
  function setElder(on) {
    document.documentElement.classList.toggle("elder", on);
    $("elder").setAttribute("aria-pressed", on ? "true" : "false");
    $("elder").textContent = on ? "退出长辈模式" : "长辈模式";
    try { localStorage.setItem(ELDER, on ? "1" : ""); } catch (e) { /* private mode */ }
  }
  let elderOn = false;
  try { elderOn = localStorage.getItem(ELDER) === "1"; } catch (e) { /* private mode */ }
  setElder(elderOn);
  $("elder").addEventListener("click", () => setElder(!document.documentElement.classList.contains("elder")));

  // setSegment shows the current segment of the run-sheet (0: none); the
  // chat tells it (welcome and segment events).
  function setSegment(n) {
    govlive.segment = n || 0;
    const seg = info && (info.segments || []).find((g, i) => (g.order || i + 1) === govlive.segment);
    govlive.segmentTitle = seg ? seg.title || "" : "";
    $("segment").textContent = govlive.segmentTitle ? "当前环节：" + govlive.segmentTitle : "";
    $("segment").hidden = !govlive.segmentTitle;
  }
  govlive.setSegment = setSegment;

  function setState(state, error) {
    govlive.state = state;
    govlive.error = error || "";
    $("state").textContent = stateText[state];
    $("error").textContent = govlive.error;
    const busy = state === "connecting" || state === "connected";
    $("start").disabled = busy;
    $("stop").disabled = !busy;
    showWaiting();
  }

  // loadSession reads the session: null when it does not exist or is not
  // this viewer's to see (404).
  async function loadSession() {
    const resp = await fetch(sessionURL, { headers: auth(token, {}) });
    if (resp.status === 404) return null;
    if (!resp.ok) throw new Error("无法读取直播信息：" + await errorText(resp));
    return resp.json();
  }

  // chinaTime splits t into its fields in China time (UTC+8 all year).
  function chinaTime(t) {
    const d = new Date(t.getTime() + 8 * 3600 * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return {
      year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
      weekday: "日一二三四五六"[d.getUTCDay()], clock: pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()),
    };
  }

  // span writes a schedule as 12月3日（周四）15:00–16:00, with the year
  // when it is not this year's, and the end's date when it is another day.
  function span(start, end) {
    const a = new Date(start), b = new Date(end);
    if (isNaN(a) || isNaN(b)) return "";
    const s = chinaTime(a), e = chinaTime(b), now = chinaTime(new Date());
    let text = (s.year !== now.year ? s.year + "年" : "") + s.month + "月" + s.day + "日（周" + s.weekday + "）" + s.clock + "–";
    if (e.year !== s.year || e.month !== s.month || e.day !== s.day) {
      text += (e.year !== s.year ? e.year + "年" : "") + e.month + "月" + e.day + "日 ";
    }
    return text + e.clock;
  }

  function showSession(s) {
    govlive.title = s.title || session;
    $("title").textContent = govlive.title;
    document.title = govlive.title + " - 政务直播";
    const meta = [];
    const when = span(s.start, s.end);
    if (when) meta.push("直播时间：" + when);
    if (s.category) meta.push(s.category);
    const names = (s.anchors || []).map((a) => a.name).filter(Boolean);
    if (names.length) meta.push("主播：" + names.join("、"));
    // one span an item, so that a phone wraps between items, not inside them
    $("meta").replaceChildren(...meta.map((text) => {
      const span = document.createElement("span");
      span.textContent = text;
      return span;
    }));
    $("meta").hidden = meta.length === 0;
    $("summary").textContent = s.summary || "";
    $("summary").hidden = !s.summary;
    setSegment(govlive.segment);
  }

  // notFound shows one message and leaves the stream alone.
  function notFound() {
    release();
    setState("notfound");
    $("title").textContent = "找不到该直播";
    document.title = "找不到该直播 - 政务直播";
    $("controls").hidden = true;
    $("notfound").hidden = false;
  }

  function makeSlots(n) {
    $("grid").textContent = "";
    slots = [];
    for (let i = 0; i < n; i++) {
      const tile = document.createElement("div");
      tile.className = "tile";
      tile.hidden = true;
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.id = "slot" + i;
      const label = document.createElement("span");
      label.textContent = "画面 " + (i + 1);
      tile.append(video, label);
      $("grid").append(tile);
      slots.push({ tile, video, label, stream: new MediaStream(), frames: 0, lastFrame: 0, audioPackets: 0 });
    }
    govlive.slots = slots.map(() => ({ visible: false, framesDecoded: 0, audioPackets: 0 }));
    showWaiting();
  }

  // showWaiting says the session is waiting for its anchors while the page
  // is connected to a known session and no slot shows a picture.
  function showWaiting() {
    const active = govlive.state === "connecting" || govlive.state === "connected";
    $("waiting").hidden = !info || !active || slots.some((s) => !s.tile.hidden);
  }

  // play starts a slot's video with sound, or muted with a button to unmute.
  function play(slot) {
    slot.video.muted = false;
    slot.video.play().catch(() => {
      slot.video.muted = true;
      $("unmute").hidden = false;
      slot.video.play().catch(() => {});
    });
  }

  $("unmute").addEventListener("click", () => {
    for (const s of slots) {
      s.video.muted = false;
      s.video.play().catch(() => {});
    }
    $("unmute").hidden = true;
  });

  function onTrack(e) {
    const id = e.streams[0] ? e.streams[0].id : "";
    const m = /^slot(\d+)$/.exec(id);
    const slot = m ? slots[Number(m[1])] : undefined;
    if (!slot) return;
    slot.stream.addTrack(e.track);
    if (slot.video.srcObject !== slot.stream) slot.video.srcObject = slot.stream;
    slot.trackIds = (slot.trackIds || []).concat(e.track.id);
    play(slot);
  }

  // poll shows a slot while its video decodes frames and hides it after
  // STALL_MS without one.
  async function poll(pc) {
    if (pc !== window.pc || pc.connectionState === "closed") return;
    const stats = await pc.getStats();
    const now = performance.now();
    stats.forEach((r) => {
      if (r.type !== "inbound-rtp") return;
      const slot = slots.find((s) => s.trackIds && s.trackIds.includes(r.trackIdentifier));
      if (!slot) return;
      if (r.kind === "video" && r.framesDecoded > slot.frames) {
        slot.frames = r.framesDecoded;
        slot.lastFrame = now;
      } else if (r.kind === "audio") {
        slot.audioPackets = r.packetsReceived || 0;
      }
    });
    slots.forEach((s, i) => {
      const visible = s.lastFrame > 0 && now - s.lastFrame < STALL_MS;
      if (s.tile.hidden === visible) {
        s.tile.hidden = !visible;
        if (visible) play(s);
      }
      govlive.slots[i] = { visible, framesDecoded: s.frames, audioPackets: s.audioPackets, anchor: govlive.slots[i].anchor || "" };
    });
    const shown = slots.filter((s) => !s.tile.hidden).length;
    if (shown !== govlive.layout) {
      govlive.layout = shown;
      $("grid").dataset.count = String(shown);
    }
    showWaiting();
  }

  // names labels each slot with the anchor who holds it (the session's
  // stats list the anchors by slot); an edge has no such list for a slot
  // and keeps "画面 N".
  async function names() {
    const resp = await fetch(sessionURL + "/stats", { headers: auth(token, {}) });
    if (!resp.ok) return;
    const st = await resp.json();
    const bySlot = {};
    for (const a of st.anchors || []) if (a.slot >= 0) bySlot[a.slot] = a.anchor;
    slots.forEach((s, i) => {
      const name = st.edge ? "" : bySlot[i];
      s.label.textContent = name ? name : "画面 " + (i + 1);
      govlive.slots[i].anchor = name || "";
    });
  }

  // start reads the session (once), then connects to it. An unknown
  // session ends in one message and no connection.
  async function start() {
    if (govlive.state === "notfound") return;
    wanted = true;
    clearTimeout(retryTimer);
    setState("connecting");
    try {
      const [config, s] = await Promise.all([
        fetch("/api/stream/config").then((r) => r.json()),
        info || loadSession(),
      ]);
      if (!s) {
        notFound();
        return;
      }
      if (!info) {
        info = s;
        showSession(s);
      }
      makeSlots(config.slots > 0 ? config.slots : 4);
      const pc = window.pc = new RTCPeerConnection({ iceServers: config.ice_servers || [] });
      pc.addEventListener("track", onTrack);
      pc.addEventListener("connectionstatechange", () => {
        if (pc !== window.pc) return;
        clearTimeout(lossTimer);
        if (pc.connectionState === "connected") {
          retry = 0;
          setState("connected");
        } else if (pc.connectionState === "failed") {
          setState("failed", "与服务器的媒体连接失败");
          reconnect();
        } else if (pc.connectionState === "disconnected") {
          // a short loss may heal by itself; a longer one is reconnected
          lossTimer = setTimeout(() => { if (pc === window.pc) reconnect(); }, 3000);
        }
      });
      for (let i = 0; i < slots.length; i++) {
        pc.addTransceiver("video", { direction: "recvonly" });
        pc.addTransceiver("audio", { direction: "recvonly" });
      }
      const mark = (name) => { if (!(name in govlive.timing)) govlive.timing[name] = Math.round(performance.now()); };
      mark("config");
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 2000);
      mark("gathered");
      const resp = await fetch("/whep/" + encodeURIComponent(session), {
        method: "POST",
        headers: auth(token, { "Content-Type": "application/sdp" }),
        body: pc.localDescription.sdp,
      });
      if (resp.status !== 201) throw new Error("无法观看：" + await errorText(resp));
      const location = resp.headers.get("Location");
      if (location) govlive.resource = new URL(location, resp.url).href;
      mark("answered");
      await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
      let ticks = 0;
      poller = setInterval(() => {
        poll(pc).catch(() => {});
        if (ticks++ % 8 === 0) names().catch(() => {});
      }, 250);
    } catch (e) {
      release();
      setState("error", e.message || String(e));
      reconnect();
    }
  }

  // reconnect connects again after a loss, waiting longer each time
  // (1, 2, 4 … 30 s), unless the viewer stopped watching.
  function reconnect() {
    if (!wanted || govlive.state === "notfound") return;
    release();
    clearTimeout(retryTimer);
    const wait = Math.min(30000, 1000 * 2 ** retry++);
    $("state").textContent = "连接中断，" + Math.round(wait / 1000) + " 秒后重连…";
    retryTimer = setTimeout(() => { govlive.reconnects++; start(); }, wait);
  }
  window.addEventListener("online", () => {
    if (wanted && govlive.state !== "connected" && govlive.state !== "connecting" && govlive.state !== "notfound") {
      retry = 0;
      start();
    }
  });

  function release(keepalive) {
    clearInterval(poller);
    const resource = govlive.resource;
    govlive.resource = "";
    if (resource) fetch(resource, { method: "DELETE", headers: auth(token, {}), keepalive: !!keepalive }).catch(() => {});
    if (window.pc) window.pc.close();
    for (const s of slots) {
      s.video.srcObject = null;
      s.tile.hidden = true;
    }
    govlive.layout = 0;
    $("grid").dataset.count = "0";
    showWaiting();
  }

  function stop() {
    wanted = false;
    clearTimeout(retryTimer);
    release();
    setState("stopped");
  }

  $("start").addEventListener("click", start);
  $("stop").addEventListener("click", stop);
  window.addEventListener("pagehide", () => release(true));
  govlive.start = start;
  govlive.stop = stop;
  start();
})();
