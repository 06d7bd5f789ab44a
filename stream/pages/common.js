// What the watch and publish pages share: the session named by the page's
// path, bearer headers, the server's error message, and waiting for ICE
// gathering. Loaded before each page's own script, as window.govliveCommon.
"use strict";
window.govliveCommon = (() => {
  function decode(s) {
    try { return decodeURIComponent(s); } catch (e) { return s; }
  }

  // sessionOf is the session of a path /KIND/{session}.
  function sessionOf(kind) {
    const parts = location.pathname.split("/").filter(Boolean);
    return decode(parts[parts.indexOf(kind) + 1] || parts[parts.length - 1] || "");
  }

  // auth adds a bearer token, if any, to request headers.
  function auth(token, headers) {
    if (token) headers.Authorization = "Bearer " + token;
    return headers;
  }

  // errorText turns a failed response into the server's message.
  async function errorText(resp) {
    try {
      const body = await resp.json();
      if (body && body.error) return body.error + "（" + resp.status + "）";
    } catch (e) { /* not JSON */ }
    return "服务器返回 " + resp.status;
  }

  // gathered resolves once ICE gathering completes, or after ms.
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

  return { sessionOf, auth, errorText, gathered };
})();
