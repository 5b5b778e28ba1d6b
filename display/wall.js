// The waiting-room wall display: the latest call huge, the last calls, each service's queue,
// and every new call flashed, chimed and spoken (Vietnamese first). Announcements queue and
// never overlap; a recall is marked and announced again.
(function () {
  "use strict";
  const settings = JSON.parse(document.getElementById("motcua-settings").textContent);
  const texts = settings.texts;
  const branch = settings.branch.id;
  const RECENT = settings.recent_calls;  // [queue] recent_calls in config.toml
  const TARGET = settings.target_wait_min;  // [staffing] target_wait_min
  const $ = (id) => document.getElementById(id);
  // Calls are told apart by number: the branch's events carry no ticket ids. A number is the
  // day's, and `at` tells a call from a later one of the same number.
  const callKey = (call) => `${call.number}|${call.at}|${call.recall ? 1 : 0}`;

  let calls = [];            // newest last (the server's recent_calls come newest first)
  const seen = new Set();    // calls already shown (and announced, after the first state)
  let firstState = true;
  let lastServices = [];
  let lastCounters = [];

  motcuaTexts(texts);
  // The list has a row for every call it keeps (all but the latest, shown large): the CSS sizes
  // the rows so that the last one is whole on any screen.
  $("recent").style.setProperty("--rows", String(Math.max(1, RECENT - 1)));
  $("recent").style.setProperty("--half-rows", String(Math.max(1, Math.ceil((RECENT - 1) / 2))));
  $("branch-vi").textContent = settings.branch.name.vi;
  $("branch-en").textContent = settings.branch.name.en;
  $("closed-branch").textContent = settings.branch.name.vi;
  document.title = `${settings.branch.name.vi} — motcua`;
  tick();
  setInterval(tick, 1000);

  // ---- state ---------------------------------------------------------------------------------

  function applyState(state) {
    // Closed by the administration: said across the whole screen, in place of calls and queues.
    $("closed").hidden = !state.closed;
    document.body.dataset.closed = state.closed ? "yes" : "no";
    // A to Z, then AA, AB…: the order of the letters a branch hands out.
    lastCounters = state.counters || [];
    lastServices = state.services.slice().sort((a, b) => a.letter.length - b.letter.length || a.letter.localeCompare(b.letter));
    renderServices();
    const fresh = [];
    const oldestFirst = state.recent_calls.slice(0, RECENT).reverse();
    for (const call of oldestFirst) {
      if (!seen.has(callKey(call))) { seen.add(callKey(call)); if (!firstState) fresh.push(call); }
    }
    calls = oldestFirst;
    firstState = false;
    renderCalls();
    fresh.forEach(announce);   // calls missed while the socket was down: announced once, in order
  }

  function onCalled(call) {
    if (call.branch !== branch || seen.has(callKey(call))) return;
    seen.add(callKey(call));
    calls = calls.filter((c) => !(c.number === call.number && c.at === call.at)).concat([call]).slice(-RECENT);
    renderCalls();
    announce(call);
  }

  // ---- drawing -------------------------------------------------------------------------------

  function renderCalls() {
    const latest = calls[calls.length - 1];
    $("now").classList.toggle("has-call", Boolean(latest));
    if (latest) {
      $("now-number").textContent = latest.number;
      $("now-counter").textContent = latest.counter;
      $("now-recall").hidden = !latest.recall;
      $("now-recall").textContent = `${texts.vi["display.recall"]} · ${texts.en["display.recall"]}`;
      const channel = channelKey(latest);
      $("now-channel").hidden = !channel;
      if (channel) $("now-channel").textContent = `${texts.vi[channel]} · ${texts.en[channel]}`;
    }
    const list = $("recent");
    list.replaceChildren(...calls.slice(0, -1).reverse().map((call) => {
      const item = document.createElement("li");
      item.innerHTML = `<span class="num"></span><span><span class="arrow">→</span> <span class="cno"></span></span>`;
      item.dataset.key = `${call.number}|${call.counter}`;
      item.querySelector(".num").textContent = call.number;
      item.querySelector(".cno").textContent = `${texts.vi["display.counter"]} ${call.counter}`;
      if (call.recall) {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = texts.vi["display.recall"];
        item.querySelector(".num").append(tag);
      }
      const channel = channelKey(call);
      if (channel) {
        const tag = document.createElement("span");
        tag.className = "tag channel";
        tag.textContent = texts.vi[channel];
        item.querySelector(".num").append(tag);
      }
      return item;
    }));
  }

  // The label of a call not taken at the kiosk (remote, appointment): its catalogue key, or null.
  function channelKey(call) {
    const key = `display.channel.${call.channel}`;
    return call.channel && call.channel !== "walk_in" && texts.vi[key] ? key : null;
  }

  // Coloured against the centre's target ([staffing] target_wait_min): within it green, up to
  // twice it amber, beyond red; the same classes as the staff pages.
  function waitClass(minutes) {
    return minutes <= TARGET ? "ok" : minutes <= 2 * TARGET ? "warn" : "bad";
  }

  function renderServices() {
    const names = Object.fromEntries(settings.services.concat(lastServices).map((s) => [s.id, s.name]));  // live names win
    const named = (service) => names[service.id] || { vi: service.id, en: service.id };
    const grid = $("service-cards");
    grid.classList.remove("compact");
    $("services").classList.remove("compact");
    grid.replaceChildren(...lastServices.map((service) => {
      const box = document.createElement("div");
      box.className = "service";
      box.dataset.service = service.id;
      const name = named(service);
      const nameEl = document.createElement("div");
      nameEl.className = "name";
      nameEl.textContent = `${service.letter} · ${name.vi}`;
      const en = document.createElement("span");
      en.className = "en";
      en.textContent = name.en;
      nameEl.append(en);
      const line = document.createElement("div");
      line.className = "line";
      line.append(waitingLine(service.waiting), waitLine(service.estimated_wait_min));
      box.append(nameEl, line);
      return box;
    }));
    paginate();
    if (pages.length > 1) renderTable(named);   // more than one page of cards: the compact table instead
    showPage(Math.min(pageIndex, pages.length - 1));
  }

  // ---- the compact table, for more services than fit as cards ------------------------------------
  // Columns as many as the CSS grid makes (its tracks are counted), each with its header and as many
  // rows as its height holds (measured); a page is a screenful of columns. The names are in one
  // language a round of pages, Vietnamese then English (the headings keep both: the same pages).

  let tableLang = "vi";

  function renderTable(named) {
    const grid = $("service-cards");
    grid.classList.add("compact");
    $("services").classList.add("compact");
    const probe = tableColumn(lastServices.slice(0, 1), named);
    grid.replaceChildren(probe);
    const head = probe.querySelector(".chead").getBoundingClientRect().height;
    const row = probe.querySelector(".crow").getBoundingClientRect().height;
    const columns = Math.max(1, getComputedStyle(grid).gridTemplateColumns.split(" ").length);
    // As many rows as fit, or fewer when one page has room for all: spread over its columns.
    const perColumn = Math.max(1, Math.min(Math.floor((grid.clientHeight + 0.5 - head) / row),
      Math.ceil(lastServices.length / columns)));
    pages = [];
    for (let first = 0; first < lastServices.length; first += perColumn * columns) {
      const page = [];
      for (let c = first; c < Math.min(first + perColumn * columns, lastServices.length); c += perColumn) {
        page.push(tableColumn(lastServices.slice(c, c + perColumn), named));
      }
      pages.push(page);
    }
    grid.replaceChildren(...pages.flat());
  }

  function tableColumn(services, named) {
    const column = document.createElement("div");
    column.className = "ccol";
    const head = document.createElement("div");
    head.className = "chead";
    head.append(cell("", ""), cell("", ""), ...["display.table.waiting", "display.table.wait",
      "display.table.serving"].map((key) => {
      const label = cell("", texts.vi[key]);
      const en = document.createElement("span");
      en.className = "en";
      en.textContent = texts.en[key];
      label.append(en);
      return label;
    }));
    column.append(head, ...services.map((service) => {
      const row = document.createElement("div");
      row.className = "crow";
      row.dataset.service = service.id;
      const name = cell("cname", "");
      const roll = document.createElement("span");
      roll.className = "roll";
      roll.textContent = named(service)[tableLang];
      roll.lang = tableLang;
      name.append(roll);
      const minutes = service.estimated_wait_min;
      const serving = servingNumber(service.id);
      row.append(cell("cletter", service.letter), name,
        cell(service.waiting ? "cnum waiting" : "cnum waiting quiet", String(service.waiting)),
        minutes === null ? cell("cnum quiet", "—") : minutes < 1 ? cell("cnum quiet", "0") : cell(`cnum wait ${waitClass(minutes)}`, String(minutes)),
        cell(serving ? "cnum cserving" : "cnum cserving quiet", serving || "—"));
      return row;
    }));
    return column;
  }

  function cell(className, text) {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  // The latest number a counter serves for the service (numbers run up through the day), or "".
  function servingNumber(serviceId) {
    const numbers = lastCounters.map((c) => c.serving).filter((t) => t && t.service === serviceId).map((t) => t.number);
    return numbers.sort((a, b) => a.length - b.length || a.localeCompare(b)).pop() || "";
  }

  // ---- pages of services ---------------------------------------------------------------------
  // The cards are cut into pages of whole rows that fit the strip, measured as laid out (names
  // take one line or three); one page shows at a time, the next every [display] page_seconds. In the
  // table, a page whose names run over several lines rolls them a line every quarter of page_seconds,
  // and stays until its longest name has been read whole.

  let pages = [];
  let pageIndex = 0;
  let line = 0;          // the line of the table's names shown
  let pageLines = 1;     // the most lines a name of the page shown has

  function paginate() {
    const grid = $("service-cards");
    const cards = [...grid.children];
    cards.forEach((card) => { card.hidden = false; });
    const rows = new Map();   // a row's top → its cards and its bottom
    for (const card of cards) {
      const box = card.getBoundingClientRect();
      const row = rows.get(box.top) || { cards: [], bottom: box.bottom };
      row.cards.push(card);
      row.bottom = Math.max(row.bottom, box.bottom);
      rows.set(box.top, row);
    }
    const room = grid.clientHeight + 0.5;
    pages = [];
    let origin = null;
    for (const [top, row] of rows) {
      if (origin === null || row.bottom - origin > room) { pages.push([]); origin = top; }
      pages[pages.length - 1].push(...row.cards);
    }
    if (!pages.length) pages = [[]];
  }

  function showPage(index) {
    pageIndex = index;
    const shown = new Set(pages[index]);
    for (const card of $("service-cards").children) card.hidden = !shown.has(card);
    const footer = $("services");
    footer.dataset.page = String(index + 1);
    footer.dataset.pages = String(pages.length);
    footer.dataset.lang = tableLang;
    const indicator = $("services-page");
    indicator.hidden = pages.length < 2;
    const fill = (text) => text.replace("{page}", index + 1).replace("{pages}", pages.length);
    indicator.textContent = `${fill(texts.vi["display.page"])} · ${fill(texts.en["display.page"])}`;
    const rolls = [...$("service-cards").querySelectorAll(".ccol:not([hidden]) .roll")];
    for (const roll of rolls) {
      roll.dataset.lines = String(Math.max(1, Math.round(roll.scrollHeight / roll.parentElement.clientHeight)));
    }
    pageLines = Math.max(1, ...rolls.map((roll) => Number(roll.dataset.lines)));
    if (line >= states()) line = 0;
    showLine();
  }

  function showLine() {
    for (const roll of $("service-cards").querySelectorAll(".ccol:not([hidden]) .roll")) {
      const lines = Number(roll.dataset.lines);
      const at = line < lines ? line : 0;   // a name read whole shows its beginning again
      roll.style.setProperty("--line", String(at));
      roll.parentElement.classList.toggle("more", at < lines - 1);
    }
    $("services").dataset.line = String(line + 1);
    $("services").dataset.lines = String(states());
  }

  // One timer turns lines and pages: a state change redraws the page shown, at the line shown.
  function turn() {
    line += 1;
    if (line >= states()) line = 0;
    const table = $("service-cards").classList.contains("compact");
    if (line === 0 && table && pageIndex === pages.length - 1) {
      tableLang = tableLang === "vi" ? "en" : "vi";   // a round of the table's pages done: its other language
      pageIndex = 0;
      renderServices();
    } else if (line === 0 && pages.length > 1) showPage((pageIndex + 1) % pages.length);
    else showLine();
    setTimeout(turn, settings.page_seconds * 1000 / (pageLines > 1 ? 4 : 1));
  }

  // A page of names that roll: a line every quarter of page_seconds, for page_seconds at least.
  function states() { return pageLines > 1 ? Math.max(4, pageLines) : 1; }
  setTimeout(turn, settings.page_seconds * 1000);
  // A new size (another screen, the sound-off bar) makes other pages.
  new ResizeObserver(() => renderServices()).observe($("service-cards"));

  function waitingLine(waiting) {
    if (waiting === 0) return figure(texts.vi["display.nobody_waiting"], null, null, "quiet");
    return figure(texts.vi["display.waiting"], waiting, texts.vi["display.people"], null, "waiting");
  }

  function waitLine(minutes) {
    if (minutes === null) return figure(texts.vi["display.no_counter"], null, null, "quiet");
    if (minutes < 1) return figure(texts.vi["display.no_wait"], null, null, "quiet");
    return figure(texts.vi["display.wait"], minutes, texts.vi["display.minutes"], null, `wait ${waitClass(minutes)}`);
  }

  // One line of a service's box: a label left, and on the right a figure in bold with its unit.
  function figure(label, value, unit, extraClass, valueClass) {
    const line = document.createElement("div");
    line.className = extraClass ? `figures ${extraClass}` : "figures";
    const key = document.createElement("span");
    key.textContent = label;
    line.append(key);
    if (value !== null) {
      const right = document.createElement("span");
      right.className = "v";
      const b = document.createElement("b");
      b.className = valueClass;
      b.textContent = String(value);
      right.append(b, ` ${unit}`);
      line.append(right);
    }
    return line;
  }

  function tick() {
    const now = new Date();
    const zone = { timeZone: settings.timezone };
    $("clock").textContent = now.toLocaleTimeString("vi-VN", { ...zone, hour: "2-digit", minute: "2-digit", hour12: false });
    const shortName = new Intl.DateTimeFormat("en-US", { ...zone, weekday: "short" }).format(now);
    const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(shortName);
    const day = now.toLocaleDateString("vi-VN", { ...zone, day: "2-digit", month: "2-digit", year: "numeric" });
    $("date").textContent = `${texts.vi.weekday[weekday]}, ${day} · ${texts.en.weekday[weekday]}`;
  }

  function setBadge(status) {
    const badge = $("badge");
    badge.hidden = status === "live";
    badge.dataset.status = status;
    if (status === "reconnecting") badge.textContent = `${texts.vi["display.reconnecting"]} · ${texts.en["display.reconnecting"]}`;
    if (status === "polling") badge.textContent = texts.vi["display.polling"];
  }

  // ---- sound ---------------------------------------------------------------------------------

  // The voice keeps pace with the screen: each call said begins within [display] voice_max_lag_s of
  // reaching it. After a quiet spell, the chime and the full sentence. A call made while one is said
  // cuts it short once its counter is said, or sooner if the newer call would otherwise be late; a
  // recall cuts it at once and is never cut before its own counter. Then the calls waiting are said
  // together in the short form ("Mời số A012 quầy 3, A013 quầy 4"), newest first as the screen shows
  // them, without the chime. A call that could no longer begin in time stays on the screen only, unless
  // it is a recall or the latest call. Each call's clip is asked for as it arrives, so that its phrases
  // are rendered early.
  const MAX_LAG_MS = settings.voice_max_lag_s * 1000;
  const FETCH_MS = 1000;     // what asking for a clip may take: the margin kept before a call's limit
  const queue = [];
  let speaking = false;
  let playing = null;        // the clip being said: { batch, marks, startedAt, cut(), timer }
  let newest = null;         // the latest call: always said
  let soundBlocked = false;
  fetch("/display/chime.wav").catch(() => {});   // in the browser's cache before the first call

  const ids = (batch) => batch.map((c) => `${encodeURIComponent(c.number)}-${encodeURIComponent(c.counter)}`).join(",");
  const clip = (lang, call) => `/display/voice/${lang}/${call.recall ? "recall/" : ""}${encodeURIComponent(call.number)}/${encodeURIComponent(call.counter)}.wav`;
  const shortClip = (lang, batch) => `/display/voice/${lang}/${batch[0].recall ? "recall/" : ""}calls/${ids(batch)}.wav`;
  const inTime = (call) => Date.now() - call.shownAt + FETCH_MS <= MAX_LAG_MS;

  function announce(call) {
    flash();
    newest = { ...call, shownAt: Date.now() };
    queue.push(newest);
    settings.voice.forEach((lang) => fetch(clip(lang, call)).catch(() => {}));
    if (!speaking) speakNext();
    else if (playing) planCut();
  }

  function flash() {
    const now = $("now");
    now.classList.remove("flash");
    void now.offsetWidth;  // restart the animation for back-to-back calls
    now.classList.add("flash");
  }

  // The next announcement: a recall alone (first: it is never dropped), else the calls still in time
  // and the latest one, newest first.
  function nextBatch() {
    const recall = queue.findIndex((call) => call.recall);
    if (recall >= 0) return queue.splice(recall, 1);
    return queue.splice(0).filter((call) => call === newest || inTime(call)).reverse().slice(0, RECENT);
  }

  async function speakNext() {
    speaking = true;
    await play("/display/chime.wav");   // the chime opens a burst, not each announcement in it
    let burst = false;
    while (queue.length) {
      const batch = nextBatch();
      if (!batch.length) continue;   // all of them too late: left to the screen
      const short = burst || batch.length > 1;
      burst = true;
      for (const [i, lang] of settings.voice.entries()) {
        if (i > 0 && queue.length) break;   // a later language gives way to newer calls
        const unsaid = await say(short ? shortClip(lang, batch) : clip(lang, batch[0]), batch);
        if (i === 0) queue.unshift(...unsaid.reverse());   // cut off before their turn: still in the running
      }
    }
    mark([]);
    speaking = false;
  }

  // Says one clip; answers the calls of the batch it did not reach.
  async function say(url, batch) {
    let answer;
    const asked = Date.now();
    try {
      answer = await fetch(url);
    } catch (error) {
      return [];
    }
    if (!answer.ok) return [];
    // Each call's [turn, number said, counter said], in ms from the clip's start.
    const marks = (answer.headers.get("X-Voice-Marks") || "").split(",").map((m) => m.split("-").map((s) => Number(s) * 1000));
    const source = URL.createObjectURL(await answer.blob());
    const current = { batch, marks, startedAt: null };
    mark(batch);
    await play(source, (audio) => {
      current.startedAt = Date.now();
      current.cut = () => audio.dispatchEvent(new Event("ended"));
      playing = current;
      planCut();
    });
    clearTimeout(current.timer);
    playing = null;
    URL.revokeObjectURL(source);
    const played = current.startedAt === null ? -1 : (current.stoppedAt || Date.now()) - current.startedAt;
    const reached = batch.filter((call, i) => marks[i] && marks[i][1] <= played + 50);   // its number was said
    if (reached.length) {
      // For whoever listens (a test, a monitor): what was said, when each call's turn began, and
      // whether it was said to its counter.
      document.dispatchEvent(new CustomEvent("motcua:announce", { detail: {
        calls: reached.map((c, i) => ({ number: c.number, counter: c.counter, recall: Boolean(c.recall), shownAt: c.shownAt,
          saidAt: current.startedAt + marks[i][0], whole: played >= marks[i][2] - 50 })),
        startedAt: current.startedAt, asked, stoppedAt: current.stoppedAt, url } }));
    }
    return batch.slice(reached.length);
  }

  // When to stop the clip being said: before a call of its own that could no longer begin in time (the
  // latest always may), and, while calls wait, once the call being said is said, or sooner when a call
  // waiting would otherwise be late; a recall is never cut before its counter.
  function planCut() {
    const p = playing;
    const now = Date.now();
    const ends = p.marks.map(([, , end]) => p.startedAt + end);
    let cut = Infinity;
    p.batch.forEach((call, i) => {
      if (i > 0 && call !== newest && p.startedAt + p.marks[i][0] - call.shownAt > MAX_LAG_MS) cut = Math.min(cut, ends[i - 1]);
    });
    const waiting = queue.filter((call) => call.recall || call === newest || inTime(call));
    if (waiting.length) {
      const said = ends.find((end) => end >= now) ?? now;
      const due = Math.min(...waiting.map((call) => call.recall ? now : call.shownAt + MAX_LAG_MS - FETCH_MS));
      cut = Math.min(cut, p.batch[0].recall ? Math.max(ends[0], Math.min(said, due)) : Math.min(said, due));
    }
    clearTimeout(p.timer);
    if (cut !== Infinity) p.timer = setTimeout(() => { p.stoppedAt = Date.now(); p.cut(); }, Math.max(0, cut - now));
  }

  // The calls being said are marked on the screen (the big number, or their rows in the list).
  function mark(batch) {
    const keys = new Set(batch.map((c) => `${c.number}|${c.counter}`));
    const latest = calls[calls.length - 1];
    $("now").classList.toggle("speaking", Boolean(latest) && keys.has(`${latest.number}|${latest.counter}`));
    for (const item of $("recent").children) item.classList.toggle("speaking", keys.has(item.dataset.key));
  }

  function play(url, onStart = () => {}) {
    return new Promise((resolve) => {
      const audio = new Audio(url);
      audio.addEventListener("playing", () => onStart(audio), { once: true });
      const done = () => { clearTimeout(guard); audio.pause(); resolve(); };
      const guard = setTimeout(done, 30000);  // a clip that never ends must not stop the queue
      audio.addEventListener("ended", done);
      audio.addEventListener("error", done);
      audio.play().then(() => showBlocked(false)).catch((error) => {
        if (error && error.name === "NotAllowedError") showBlocked(true);
        done();
      });
    });
  }

  function showBlocked(blocked) {
    soundBlocked = blocked;
    $("sound-blocked").hidden = !blocked;
    document.body.dataset.sound = blocked ? "blocked" : "on";
  }

  // Browsers allow sound only after a first interaction (or with Chromium's
  // --autoplay-policy=no-user-gesture-required, which `motcua display` passes): one tap anywhere.
  document.addEventListener("pointerdown", () => {
    if (!soundBlocked) return;
    new Audio("/display/chime.wav").play().then(() => showBlocked(false)).catch(() => {});
  });
  if (navigator.getAutoplayPolicy && navigator.getAutoplayPolicy("mediaelement") === "disallowed") showBlocked(true);

  motcuaLive({
    subscribe: { branch },
    pollUrl: `/api/v1/branches/${encodeURIComponent(branch)}/state`,
    events: { queue: applyState, called: onCalled },
    onPolled: applyState,
    onStatus: setBadge,
  });
})();
