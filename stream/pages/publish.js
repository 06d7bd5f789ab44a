// The publish page (publish.html): publishes the browser's camera and
// microphone to the session of its path (/publish/{session}) over WHIP.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const parts = location.pathname.split("/").filter(Boolean);
  const session = decodeURIComponent(parts[parts.indexOf("publish") + 1] || parts[parts.length - 1] || "");
  const stateText = {
    idle: "未开始", media: "正在打开摄像头和麦克风…", connecting: "正在连接…",
    live: "推流中", failed: "连接中断", stopped: "已停止", error: "出错了",
  };
  const govlive = window.govlive = { state: "idle", session, error: "", resource: "", codec: "" };
  let stream = null;

  $("session").textContent = session;
  $("token").value = params.get("token") || "";
  $("codec").value = (params.get("codec") || "").toLowerCase();

  function setState(state, error) {
    govlive.state = state;
    govlive.error = error || "";
    $("state").textContent = stateText[state] + (govlive.codec ? "（" + govlive.codec + "）" : "");
    $("error").textContent = govlive.error;
    const busy = state === "media" || state === "connecting" || state === "live";
    $("start").disabled = busy;
    $("stop").disabled = !busy;
    $("token").disabled = busy;
    $("codec").disabled = busy;
  }

  // errorText turns a failed response into the server's message.
  async function errorText(resp) {
    try {
      const body = await resp.json();
      if (body && body.error) return body.error + "（" + resp.status + "）";
    } catch (e) { /* not JSON */ }
    return "服务器返回 " + resp.status;
  }

  // gathered resolves when ICE gathering completes, or after ms.
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

  // prefer moves the codecs of one name (and RTX/RED/FEC) to the front.
  function prefer(transceiver, name) {
    const caps = RTCRtpSender.getCapabilities ? RTCRtpSender.getCapabilities("video") : null;
    if (!name || !caps || !transceiver.setCodecPreferences) return;
    const mime = "video/" + name;
    const first = caps.codecs.filter((c) => c.mimeType.toLowerCase() === mime);
    if (first.length === 0) throw new Error("浏览器不支持 " + name.toUpperCase() + " 编码");
    transceiver.setCodecPreferences(first.concat(caps.codecs.filter((c) => c.mimeType.toLowerCase() !== mime)));
  }

  // negotiatedCodec reads the video codec in use from the sender's stats.
  async function negotiatedCodec(pc) {
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
    const token = $("token").value.trim();
    if (!token) { setState("error", "请输入推流令牌"); return; }
    govlive.codec = "";
    setState("media");
    let pc = null;
    try {
      const config = await (await fetch("/api/stream/config")).json();
      if (!window.isSecureContext || !navigator.mediaDevices) {
        throw new Error("浏览器只在 HTTPS 页面（或本机 localhost）上开放摄像头和麦克风：请用 HTTPS 地址打开本页（serve 的 --tls-cert/--tls-key，或经 HTTPS 反向代理）");
      }
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      $("preview").srcObject = stream;
      pc = window.pc = new RTCPeerConnection({ iceServers: config.ice_servers || [] });
      pc.addEventListener("connectionstatechange", async () => {
        if (pc !== window.pc) return;
        if (pc.connectionState === "connected") {
          govlive.codec = await negotiatedCodec(pc);
          setState("live");
        } else if (pc.connectionState === "failed") {
          setState("failed", "与服务器的媒体连接失败");
        }
      });
      for (const track of stream.getTracks()) {
        const t = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
        if (track.kind === "video") prefer(t, $("codec").value);
      }
      setState("connecting");
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 2000);
      const resp = await fetch("/whip/" + encodeURIComponent(session), {
        method: "POST",
        headers: { "Content-Type": "application/sdp", "Authorization": "Bearer " + token },
        body: pc.localDescription.sdp,
      });
      if (resp.status !== 201) throw new Error("推流失败：" + await errorText(resp));
      const location = resp.headers.get("Location");
      if (location) govlive.resource = new URL(location, resp.url).href;
      await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
    } catch (e) {
      release();
      setState("error", e.message || String(e));
    }
  }

  // release closes the connection and the camera, and deletes the resource.
  function release(keepalive) {
    const resource = govlive.resource;
    govlive.resource = "";
    if (resource) fetch(resource, { method: "DELETE", keepalive: !!keepalive }).catch(() => {});
    if (window.pc) window.pc.close();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $("preview").srcObject = null;
  }

  function stop() {
    release();
    setState("stopped");
  }

  $("form").addEventListener("submit", (e) => { e.preventDefault(); start(); });
  $("stop").addEventListener("click", stop);
  window.addEventListener("pagehide", () => release(true));
  govlive.start = start;
  govlive.stop = stop;
  setState("idle");
  if ($("token").value) start();
})();
