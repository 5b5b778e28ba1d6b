// Live state for a page: Socket.IO first (the client is served by our server: no CDN), with
// reconnection and backoff; while the socket is down, the state is polled over HTTP so that the
// page keeps showing the truth. `onStatus` hears "live", "reconnecting" (nothing answers) or
// "polling" (HTTP answers, the socket does not).
(function () {
  "use strict";
  const POLL_MS = 2000;

  window.motcuaLive = function (options) {
    let polling = null;
    let status = null;
    let socketFailed = false;  // until the socket has failed once, polling is only the first look
    const setStatus = (next) => { if (next !== status) { status = next; options.onStatus(next); } };

    const socket = io({
      path: "/socket.io", transports: ["websocket", "polling"],
      reconnection: true, reconnectionDelay: 400, reconnectionDelayMax: 4000, randomizationFactor: 0.3,
      timeout: 4000,
    });
    socket.on("connect", () => {
      socket.emit("subscribe", options.subscribe);
      stopPolling();
      setStatus("live");
    });
    socket.on("disconnect", () => { socketFailed = true; setStatus("reconnecting"); startPolling(); });
    socket.on("connect_error", () => { socketFailed = true; if (status !== "polling") setStatus("reconnecting"); startPolling(); });
    for (const [name, handler] of Object.entries(options.events)) socket.on(name, handler);

    async function pollOnce() {
      try {
        const answer = await fetch(options.pollUrl, { cache: "no-store" });
        if (answer.status === 404 && options.onMissing) { options.onMissing(); return; }
        if (!answer.ok) throw new Error(String(answer.status));
        options.onPolled(await answer.json());
        if (socketFailed && !socket.connected) setStatus("polling");
      } catch (error) {
        if (socketFailed && !socket.connected) setStatus("reconnecting");
      }
    }
    function startPolling() {
      if (polling === null) polling = setInterval(pollOnce, POLL_MS);
    }
    function stopPolling() {
      if (polling !== null) { clearInterval(polling); polling = null; }
    }
    // Poll from the start, until the socket is up: the first state comes at once, and a socket
    // that never connects (a proxy that blocks it) costs no more than one poll interval.
    pollOnce();
    startPolling();
    return socket;
  };

  // Fill every [data-text] (Vietnamese) and [data-text-en] (English) element from the catalogues.
  window.motcuaTexts = function (texts) {
    for (const el of document.querySelectorAll("[data-text]")) el.textContent = texts.vi[el.dataset.text] || "";
    for (const el of document.querySelectorAll("[data-text-en]")) el.textContent = texts.en[el.dataset.textEn] || "";
  };

  // A pair of names from a page's settings (a service, a branch), not from the catalogue: Vietnamese, then English.
  window.motcuaNames = function (el, name) {
    const vi = document.createElement("div");
    vi.className = "vi";
    vi.textContent = name.vi;
    const en = document.createElement("div");
    en.className = "en";
    en.lang = "en";
    en.textContent = name.en;
    el.replaceChildren(vi, en);
  };
})();
