// What every staff page shares: its settings and texts, the session, calls to the API with the
// session's CSRF token, the live staff room, and the top bar. Loaded before the page's own script.
(function () {
  "use strict";
  const settings = JSON.parse(document.getElementById("motcua-settings").textContent);
  const LANG_KEY = "motcua.staff.lang";
  let session = null;

  function lang() {
    const chosen = localStorage.getItem(LANG_KEY);
    return chosen === "en" ? "en" : "vi";  // Vietnamese first
  }

  function t(key, params) {
    const texts = settings.texts[lang()] || {};
    let text = texts[key] !== undefined ? texts[key] : (settings.texts.vi[key] !== undefined ? settings.texts.vi[key] : key);
    for (const [name, value] of Object.entries(params || {})) text = text.split("{" + name + "}").join(String(value));
    return text;
  }

  // Fill every [data-text] element (and [data-placeholder], [data-title], [data-label]) from the catalogue.
  function translate(root) {
    (root || document).querySelectorAll("[data-text]").forEach((el) => { el.textContent = t(el.dataset.text); });
    (root || document).querySelectorAll("[data-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.placeholder); });
    (root || document).querySelectorAll("[data-title]").forEach((el) => { el.title = t(el.dataset.title); });
    (root || document).querySelectorAll("[data-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.label)); });
    document.documentElement.lang = lang();
  }

  function toggleLanguage() {
    localStorage.setItem(LANG_KEY, lang() === "vi" ? "en" : "vi");
    translate();
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (session && method !== "GET") headers["X-CSRF-Token"] = session.csrf;
    let answer;
    try {
      answer = await fetch("/api/v1" + path, {
        method: method, headers: headers, credentials: "same-origin", cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      return { status: 0, body: { error: { code: "network", message: t("staff.error.network") } } };
    }
    let parsed = null;
    const type = answer.headers.get("Content-Type") || "";
    if (type.startsWith("application/json")) parsed = await answer.json();
    else if (type.startsWith("text/")) parsed = await answer.text();
    if (answer.status === 401 && session) toLogin();  // the session ended (expired, signed out elsewhere)
    return { status: answer.status, body: parsed };
  }

  // The message to show for a refusal: the catalogue's for its code, else the server's own words.
  function errorText(result) {
    const error = result && result.body && result.body.error;
    if (!error) return t("staff.error.unknown");
    const key = "staff.error." + error.code;
    const text = t(key);
    return text !== key ? text : error.message;
  }

  function toLogin() {
    const next = location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(next));
  }

  async function loadSession() {
    const result = await api("GET", "/auth/session");
    if (result.status !== 200) { toLogin(); return new Promise(() => {}); }  // the page goes; nothing follows
    session = result.body;
    return session;
  }

  async function signOut() {
    await api("DELETE", "/auth/session");
    session = null;
    location.assign("/login");
  }

  // The staff room of a branch, live: subscribed again on every reconnect, so a page that lost its
  // link hears the truth again. The handshake carries the session cookie.
  function socket(branch, handlers, onStatus) {
    const io_ = io({ path: "/socket.io", transports: ["websocket", "polling"], reconnection: true,
                     reconnectionDelay: 400, reconnectionDelayMax: 4000, timeout: 4000 });
    io_.on("connect", () => { io_.emit("subscribe_staff", { branch: branch }); if (onStatus) onStatus(true); });
    io_.on("disconnect", () => { if (onStatus) onStatus(false); });
    io_.on("connect_error", () => { if (onStatus) onStatus(false); });
    for (const [name, handler] of Object.entries(handlers)) io_.on(name, handler);
    return io_;
  }

  // The top bar: the page's title, who is signed in where, the language, sign-out.
  function header(titleKey, onLanguage) {
    const bar = document.createElement("header");
    bar.className = "staff-bar";
    const title = document.createElement("h1");
    title.dataset.text = titleKey;
    const who = document.createElement("div");
    who.className = "who";
    who.id = "staff-who";
    const roleKey = "staff.role." + session.role;
    who.textContent = session.username + " · " + t(roleKey) + (session.branch ? " · " + session.branch : "");
    const language = document.createElement("button");
    language.type = "button";
    language.id = "staff-lang";
    language.className = "quiet";
    language.dataset.text = "staff.other_language";
    language.addEventListener("click", () => {
      toggleLanguage();
      who.textContent = session.username + " · " + t(roleKey) + (session.branch ? " · " + session.branch : "");
      if (onLanguage) onLanguage();
    });
    const out = document.createElement("button");
    out.type = "button";
    out.id = "staff-sign-out";
    out.className = "quiet";
    out.dataset.text = "staff.sign_out";
    out.addEventListener("click", signOut);
    bar.append(title, who, language, out);
    document.body.prepend(bar);
    translate();
    return bar;
  }

  // The locale of the page's language, for its numbers and dates (never the browser's own).
  function locale() {
    return lang() === "en" ? "en-GB" : "vi-VN";
  }

  // Numbers written one way per language (decimal comma in Vietnamese): never toFixed on a page.
  function number(value, digits) {
    const places = digits === undefined ? 0 : digits;
    return new Intl.NumberFormat(locale(),
                                 { minimumFractionDigits: places, maximumFractionDigits: places }).format(value);
  }

  // Green within the target, amber up to twice it, red beyond; grey when there is no estimate.
  function waitClass(minutes) {
    if (minutes === null || minutes === undefined) return "none";
    const target = settings.target_wait_min;
    return minutes <= target ? "ok" : minutes <= 2 * target ? "warn" : "bad";
  }

  window.Staff = {
    settings: settings, lang: lang, t: t, translate: translate, toggleLanguage: toggleLanguage, api: api, errorText: errorText,
    session: loadSession, signOut: signOut, socket: socket, header: header, waitClass: waitClass, number: number,
    locale: locale,
    get current() { return session; },
  };
})();
