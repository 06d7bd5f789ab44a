// The publish page (publish.html): publishes the browser's camera and
// microphone to the session of its path (/publish/{session}) over WHIP
// (RFC 9725). The anchor's token (?token= or typed in) goes as a bearer
// token on every WHIP request: the offer, trickle PATCH and DELETE.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const { sessionOf, auth, errorText, gathered } = window.govliveCommon;
  const session = sessionOf("publish");
  const stateText = {
    idle: "未开始", media: "正在打开摄像头和麦克风…", connecting: "正在连接…",
    live: "推流中", failed: "连接中断", stopped: "已停止", error: "出错了",
  };
  const govlive = window.govlive = { state: "idle", session, error: "", resource: "", etag: "", codec: "" };
  let stream = null;
  let token = ""; // the token of the current publication
  let trickled = Promise.resolve(); // PATCH requests go out one after another

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

  // showTitle puts the session's title in the heading, when the API tells
  // it (a private session only to its anchors); the id stays otherwise.
  async function showTitle() {
    token = $("token").value.trim();
    const resp = await fetch("/api/sessions/" + encodeURIComponent(session), { headers: auth(token, {}) });
    if (!resp.ok) return;
    const s = await resp.json();
    if (s && s.title) {
      $("session").textContent = s.title;
      document.title = "主播推流 · " + s.title + " - 政务直播";
    }
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

  // fragment wraps candidate lines in a trickle-ICE SDP fragment (RFC
  // 8840) for the first media section of the offer, which bundles the rest.
  function fragment(sdp, lines) {
    const line = (re) => { const m = re.exec(sdp); return m ? m[1] : ""; };
    const head = [];
    const ufrag = line(/^a=ice-ufrag:([^\r\n]+)/m), pwd = line(/^a=ice-pwd:([^\r\n]+)/m);
    const media = line(/^(m=[^\r\n]+)/m), mid = line(/^a=mid:([^\r\n]+)/m);
    if (ufrag) head.push("a=ice-ufrag:" + ufrag);
    if (pwd) head.push("a=ice-pwd:" + pwd);
    if (media) head.push(media);
    if (mid) head.push("a=mid:" + mid);
    return head.concat(lines).join("\r\n") + "\r\n";
  }

  // trickle sends candidate lines (a=candidate:…, a=end-of-candidates) to
  // the publication by PATCH and answers the status.
  async function trickle(lines) {
    const pc = window.pc;
    if (!govlive.resource || !pc || !pc.localDescription) throw new Error("没有正在进行的推流");
    const headers = auth(token, { "Content-Type": "application/trickle-ice-sdpfrag" });
    if (govlive.etag) headers["If-Match"] = govlive.etag;
    const resp = await fetch(govlive.resource, { method: "PATCH", headers, body: fragment(pc.localDescription.sdp, lines) });
    return resp.status;
  }

  async function start() {
    token = $("token").value.trim();
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
      // Candidates found after the offer went out (gathering took longer
      // than the wait below) trickle to the resource once it exists; when
      // gathering ended in time, the offer has them all and nothing trickles.
      let trickling = false;
      const late = [];
      const sendLate = () => {
        const lines = late.splice(0);
        if (lines.length) trickled = trickled.then(() => trickle(lines)).catch(() => {});
      };
      pc.addEventListener("icecandidate", (e) => {
        if (!trickling || pc !== window.pc) return;
        late.push(e.candidate && e.candidate.candidate ? "a=" + e.candidate.candidate : "a=end-of-candidates");
        if (govlive.resource) sendLate();
      });
      for (const track of stream.getTracks()) {
        const t = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
        if (track.kind === "video") prefer(t, $("codec").value);
      }
      setState("connecting");
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 2000);
      trickling = pc.iceGatheringState !== "complete";
      const resp = await fetch("/whip/" + encodeURIComponent(session), {
        method: "POST",
        headers: auth(token, { "Content-Type": "application/sdp" }),
        body: pc.localDescription.sdp,
      });
      if (resp.status !== 201) throw new Error("推流失败：" + await errorText(resp));
      const location = resp.headers.get("Location");
      if (location) govlive.resource = new URL(location, resp.url).href;
      govlive.etag = resp.headers.get("ETag") || "";
      await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
      sendLate();
    } catch (e) {
      release();
      setState("error", e.message || String(e));
    }
  }

  // release closes the connection and the camera, and deletes the resource.
  function release(keepalive) {
    const resource = govlive.resource;
    govlive.resource = "";
    govlive.etag = "";
    if (resource) fetch(resource, { method: "DELETE", headers: auth(token, {}), keepalive: !!keepalive }).catch(() => {});
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
  govlive.trickle = trickle;
  setState("idle");
  showTitle().catch(() => {});
  if ($("token").value) start();
})();
