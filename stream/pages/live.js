// The watch page (live.html): plays the slots of the session of its path
// (/live/{session}) over WHEP.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const parts = location.pathname.split("/").filter(Boolean);
  const session = decodeURIComponent(parts[parts.indexOf("live") + 1] || parts[parts.length - 1] || "");
  const stateText = {
    idle: "未开始", connecting: "正在连接…", connected: "已连接",
    failed: "连接中断", stopped: "已停止", error: "出错了",
  };
  // Each slot: its tile, video element, MediaStream, and when it last decoded a frame.
  const govlive = window.govlive = { state: "idle", session, error: "", resource: "", slots: [] };
  const STALL_MS = 2000;
  let slots = [];
  let poller = 0;

  $("session").textContent = session;

  function setState(state, error) {
    govlive.state = state;
    govlive.error = error || "";
    $("state").textContent = stateText[state];
    $("error").textContent = govlive.error;
    const busy = state === "connecting" || state === "connected";
    $("start").disabled = busy;
    $("stop").disabled = !busy;
  }

  async function errorText(resp) {
    try {
      const body = await resp.json();
      if (body && body.error) return body.error + "（" + resp.status + "）";
    } catch (e) { /* not JSON */ }
    return "服务器返回 " + resp.status;
  }

  function gathered(pc, ms) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const done = () => { if (pc.iceGatheringState === "complete") finish(); };
      const timer = setTimeout(() => finish(), ms);
      function finish() {
        clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
      pc.addEventListener("icegatheringstatechange", done);
    });
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

  function showWaiting() {
    $("waiting").hidden = slots.some((s) => !s.tile.hidden);
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
    showWaiting();
  }

  // names labels each slot with the anchor who holds it (the session's
  // stats list the anchors by slot); an edge has no such list for a slot
  // and keeps "画面 N".
  async function names() {
    const resp = await fetch("/api/sessions/" + encodeURIComponent(session) + "/stats");
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

  async function start() {
    setState("connecting");
    try {
      const config = await (await fetch("/api/stream/config")).json();
      makeSlots(config.slots > 0 ? config.slots : 4);
      const pc = window.pc = new RTCPeerConnection({ iceServers: config.ice_servers || [] });
      pc.addEventListener("track", onTrack);
      pc.addEventListener("connectionstatechange", () => {
        if (pc !== window.pc) return;
        if (pc.connectionState === "connected") setState("connected");
        else if (pc.connectionState === "failed") setState("failed", "与服务器的媒体连接失败");
      });
      for (let i = 0; i < slots.length; i++) {
        pc.addTransceiver("video", { direction: "recvonly" });
        pc.addTransceiver("audio", { direction: "recvonly" });
      }
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 2000);
      const resp = await fetch("/whep/" + encodeURIComponent(session), {
        method: "POST",
        headers: { "Content-Type": "application/sdp" },
        body: pc.localDescription.sdp,
      });
      if (resp.status !== 201) throw new Error("无法观看：" + await errorText(resp));
      const location = resp.headers.get("Location");
      if (location) govlive.resource = new URL(location, resp.url).href;
      await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
      let ticks = 0;
      poller = setInterval(() => {
        poll(pc).catch(() => {});
        if (ticks++ % 8 === 0) names().catch(() => {});
      }, 250);
    } catch (e) {
      release();
      setState("error", e.message || String(e));
    }
  }

  function release(keepalive) {
    clearInterval(poller);
    const resource = govlive.resource;
    govlive.resource = "";
    if (resource) fetch(resource, { method: "DELETE", keepalive: !!keepalive }).catch(() => {});
    if (window.pc) window.pc.close();
    for (const s of slots) {
      s.video.srcObject = null;
      s.tile.hidden = true;
    }
    showWaiting();
  }

  function stop() {
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
