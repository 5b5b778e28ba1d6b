// The citizen's phone page /t/{ticket}: the number, how many are ahead and the expected wait,
// live; a loud banner (with vibration and a chime) when the ticket is called; a rating form
// once it is done. Every word comes from the catalogues, Vietnamese first, English smaller.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const settings = JSON.parse($("motcua-settings").textContent);
  const texts = settings.texts;
  const ticketId = settings.ticket;
  const SCORES = [4, 3, 2, 1];   // best first: the way people read a scale left to right
  const DETAIL = { serving: "phone.serving_at", no_show: "phone.no_show_note", transferred: "phone.transferred_note",
                   expired: "phone.expired_note" };

  let view = null;        // the latest ticket view
  let alertedAt = null;   // called_at of the call already announced: the `called` event and the
                          // `ticket` push both carry it, and the phone must buzz once per call
  let recall = false;
  let sound = "auto";     // "auto": try, quietly; "on"/"off": the citizen chose
  let chime = null;
  let thanked = null;     // catalogue key of the thank-you note once the rating is settled
  let score = null;
  let sending = false;
  let announced = null;   // what the live region last said: a status, or a call by its time
  let moving = false;     // the offer's tap is on its way to the server
  let offerNote = null;   // catalogue key of what the offer's last tap came to (gone, error), until the next tap

  // ---- text ----------------------------------------------------------------------------------

  // A catalogue text with its {placeholders} filled in bold (the number the eye looks for). A
  // part in brackets, such as the range "(36–103)", is kept on one line: a narrow phone breaks
  // the line before it, never after its dash.
  function line(lang, key, values) {
    const el = document.createElement("div");
    el.className = lang;
    if (lang === "en") el.lang = "en";
    (texts[lang][key] || "").split(/(\([^()]*\))/).forEach((chunk, i) => {
      if (i % 2 === 0) { fill(el, chunk, values); return; }
      const group = document.createElement("span");
      group.className = "nobreak";
      fill(group, chunk, values);
      el.append(group);
    });
    return el;
  }

  function fill(el, template, values) {
    template.split(/\{(\w+)\}/).forEach((part, i) => {
      if (i % 2 === 0) { el.append(part); return; }
      const b = document.createElement("b");
      b.textContent = String(values[part] ?? "");
      el.append(b);
    });
  }

  function say(el, key, values = {}) {
    el.replaceChildren(line("vi", key, values), line("en", key, values));
  }

  const names = window.motcuaNames;

  // ---- state ---------------------------------------------------------------------------------

  function applyView(next) {
    if (!next || next.id !== ticketId) return;
    const previous = view;
    if (next.status !== "called") recall = false;
    else if (previous && previous.status === "called" && previous.called_at !== next.called_at) recall = true;
    view = next;
    render();
    if (next.status !== "called") return;
    // Opening the page on an already called ticket shows the banner but does not buzz.
    if (!previous) alertedAt = next.called_at;
    else if (next.called_at !== alertedAt) alertCall(next.called_at);  // a call learnt by polling
  }

  function onCalled(call) {
    if (call.ticket !== ticketId) return;
    recall = Boolean(call.recall);
    view = { id: ticketId, priority: false, rated: false, ...(view || {}), number: call.number,
      service: call.service, branch: call.branch, status: "called", counter: call.counter, position: null,
      estimated_wait_min: null, estimated_wait_range_min: null, called_at: call.at };
    if (recall) announced = null;   // a recall is said again, one within the same second too
    render();
    if (call.at !== alertedAt) alertCall(call.at);
  }

  function onSocketError(error) {
    if (error && error.error && error.error.code === "unknown_ticket") showMissing();
  }

  function showMissing() {
    view = null;
    document.body.dataset.status = "missing";
    document.title = texts.vi["phone.not_found"];
    for (const el of document.querySelectorAll("main > *")) el.hidden = el.id !== "missing";
  }

  // ---- drawing -------------------------------------------------------------------------------

  function render() {
    const v = view;
    const status = v.status;
    document.body.dataset.status = status;
    $("loading").hidden = true;
    $("missing").hidden = true;
    $("card").hidden = false;
    $("number").textContent = v.number;
    $("priority").hidden = !v.priority;
    say($("priority"), "phone.priority");
    const service = settings.services.find((s) => s.id === v.service);
    names($("service"), service ? service.name : { vi: v.service, en: v.service });
    renderMoved(v, service);
    names($("branch"), settings.branches[v.branch] || { vi: v.branch, en: v.branch });
    say($("status"), `phone.status.${status}`);
    renderWaiting(v);
    renderOffer(v);
    renderCalled(v);
    renderDetail(v);
    renderArrival(v);
    $("sound").hidden = status !== "waiting" && status !== "called";
    renderRating(v);
    announce(v);
    // The tab title too: a citizen on another tab sees the call there.
    const title = status === "called" ? texts.vi["phone.go_to_counter"].replace("{counter}", v.counter)
      : texts.vi[`phone.status.${status}`];
    document.title = `${v.number} · ${title}`;
  }

  // The live region speaks once per status (and once per call, a recall too), not at each count of
  // the people ahead: a screen reader hears the call as the banner shows it.
  function announce(v) {
    const key = v.status === "called" ? `called ${v.called_at}` : v.status;
    if (key === announced) return;
    announced = key;
    if (v.status !== "called") { say($("announce"), `phone.status.${v.status}`); return; }
    const line = (lang) => (recall ? `${texts[lang]["phone.recall"]}. ` : "") +
      `${texts[lang]["phone.status.called"]}. ` + texts[lang]["phone.go_to_counter"].replace("{counter}", v.counter);
    const en = document.createElement("span");
    en.lang = "en";
    en.textContent = ` ${line("en")}`;
    $("announce").replaceChildren(line("vi"), en);
  }

  function renderWaiting(v) {
    $("waiting").hidden = v.status !== "waiting";
    if (v.status !== "waiting") return;
    const ahead = Math.max(0, (v.position || 1) - 1);
    $("ahead").textContent = String(ahead);
    $("next").hidden = ahead > 0;
    say($("next"), "phone.you_are_next");
    const [key, values] = waitText(v.estimated_wait_min, v.estimated_wait_range_min);
    say($("wait"), key, values);
  }

  function waitText(min, range) {
    if (min === null || min === undefined) return ["phone.wait_unknown", {}];
    if (min < 1) return ["phone.wait_soon", {}];
    if (range) return ["phone.wait_about_range", { min, low: range[0], high: range[1] }];
    return ["phone.wait_about", { min }];
  }

  // Another branch that would call the citizen sooner (the server's `offer`): its name, the minutes
  // saved and the trip, and one button that moves the ticket there.
  function renderOffer(v) {
    const offer = v.status === "waiting" ? v.offer : null;
    $("offer").hidden = v.status !== "waiting" || (!offer && !offerNote);
    if (offerNote) {
      say($("offer-message"), offerNote);
      $("offer-message").hidden = false;
    }
    $("offer-body").hidden = !offer;
    $("offer-take").hidden = !offer;
    if (!offer) return;
    const name = settings.branches[offer.branch] || { vi: offer.branch, en: offer.branch };
    const values = (lang) => ({ branch: name[lang], saving: offer.saving_min, travel: offer.travel_min });
    $("offer-body").replaceChildren(line("vi", "phone.offer.body", values("vi")),
      line("en", "phone.offer.body", values("en")));
    $("offer-take").dataset.branch = offer.branch;
    $("offer-take").disabled = moving;
    if (moving) say($("offer-take"), "phone.offer.moving");
    else $("offer-take").replaceChildren(line("vi", "phone.offer.take", values("vi")),
      line("en", "phone.offer.take", values("en")));
  }

  async function takeOffer() {
    if (moving || !view || !view.offer) return;
    moving = true;
    offerNote = null;
    $("offer-message").hidden = true;
    renderOffer(view);
    try {
      const answer = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/move`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ branch: $("offer-take").dataset.branch, code: view.rating_code }),
      });
      if (answer.status === 201) {
        const moved = await answer.json();
        window.location.replace(`/t/${encodeURIComponent(moved.id)}`);   // the new ticket's own page
        return;
      }
      offerNote = (await errorCode(answer)) === "offer_gone" ? "phone.offer.gone" : "phone.offer.error";
      if (offerNote === "phone.offer.gone") view = { ...view, offer: null };
    } catch (error) {
      offerNote = "phone.offer.error";   // offline: the card stays, to try again
    }
    moving = false;
    render();
  }

  // Moved by an officer to another service of the branch, the ticket keeps its number, whose
  // letter is the service it was issued for: a letter that is not the service's says it moved.
  function renderMoved(v, service) {
    const letter = v.number.replace(/[0-9]+$/, "");
    const issuedFor = settings.services.find((s) => s.letter === letter);
    const moved = Boolean(service && issuedFor && issuedFor.id !== service.id) && v.status === "waiting";
    $("moved").hidden = !moved;
    if (moved) {
      $("moved").replaceChildren(line("vi", "phone.moved_note", { service: service.name.vi }),
        line("en", "phone.moved_note", { service: service.name.en }));
    }
  }

  function renderCalled(v) {
    $("called").hidden = v.status !== "called";
    if (v.status !== "called") return;
    say($("called-to"), "phone.go_to_counter", { counter: v.counter });
    $("recall").hidden = !recall;
    say($("recall"), "phone.recall");
  }

  // A ticket taken from a phone, not checked in yet: the time to come by and how to check in.
  function renderArrival(v) {
    const coming = v.channel === "remote" && v.status === "waiting" && !v.checked_in_at && Boolean(v.window_end);
    $("arrival").hidden = !coming;
    if (coming) {
      const now = v.set_off_at ? [line("vi", "phone.set_off_now", {}), line("en", "phone.set_off_now", {})] : [];
      now.forEach((p) => p.classList.add("set-off"));
      $("arrival").replaceChildren(...now, line("vi", "phone.arrive_before", { time: v.window_end.slice(11, 16) }),
        line("en", "phone.arrive_before", { time: v.window_end.slice(11, 16) }),
        line("vi", "phone.arrive_check_in", { number: v.number }), line("en", "phone.arrive_check_in", { number: v.number }));
    }
  }

  function renderDetail(v) {
    const key = DETAIL[v.status];
    $("detail").hidden = !key;
    if (key) say($("detail"), key, { counter: v.counter });
    const link = $("transferred");
    link.hidden = !(v.status === "transferred" && v.transferred_to);
    if (!link.hidden) {
      link.href = `/t/${encodeURIComponent(v.transferred_to)}`;
      say(link, "phone.transferred_link");
    }
  }

  function renderRating(v) {
    const settled = v.rated || thanked !== null;
    // The code rates the ticket at a kiosk with its number: shown once done (while waiting, the wait
    // comes first; the paper ticket has the code too), until the ticket is rated.
    $("rating-code").hidden = !v.rating_code || v.status !== "done" || settled;
    $("code").textContent = v.rating_code || "";
    $("rating").hidden = v.status !== "done" || settled;
    $("thanks").hidden = v.status !== "done" || !settled;
    if (settled) say($("thanks-note"), thanked || "rating.thanks_note");
  }

  function setBadge(status) {
    const badge = $("badge");
    badge.hidden = status === "live";
    badge.dataset.status = status;
    say(badge, status === "polling" ? "phone.polling" : "phone.reconnecting");
  }

  // ---- the call ------------------------------------------------------------------------------

  function alertCall(at) {
    alertedAt = at;
    window.scrollTo(0, 0);   // the banner is at the top: a citizen mid-scroll must see it
    const banner = $("called");
    banner.classList.remove("flash");
    void banner.offsetWidth;  // restart the animation for a recall
    banner.classList.add("flash");
    // Phones ignore vibrate() until the page has been touched once; the banner stays either way.
    if (navigator.vibrate) navigator.vibrate([400, 150, 400]);
    if (sound !== "off") playChime();
  }

  function playChime() {
    // One element, reused: a browser that let it play after a tap lets it play again later.
    if (!chime) chime = new Audio("/display/chime.wav");
    chime.currentTime = 0;
    return chime.play().then(() => { if (sound === "auto") setSound("on"); }).catch(() => {
      // Blocked until a tap: the banner and the vibration are enough; the button invites the tap.
    });
  }

  function setSound(next) {
    sound = next;
    $("sound").setAttribute("aria-pressed", String(next === "on"));
    say($("sound-label"), next === "on" ? "phone.sound_on" : "phone.sound_off");
  }

  function toggleSound() {
    if (sound === "on") { setSound("off"); return; }
    setSound("on");
    playChime();  // this tap is what unlocks sound (and vibration) for the call later
    if (navigator.vibrate) navigator.vibrate(120);
  }

  // ---- rating --------------------------------------------------------------------------------

  // Faces drawn here rather than emoji: many phones (and kiosks) lack a colour emoji font.
  const MOUTHS = { 4: "M13 28 Q24 41 35 28", 3: "M15 30 Q24 36 33 30", 2: "M15 32 L33 32", 1: "M15 36 Q24 27 33 36" };

  function face(level) {
    return `<svg viewBox="0 0 48 48" aria-hidden="true" class="face face-${level}"><circle cx="24" cy="24" r="22"/>` +
      `<circle class="eye" cx="17" cy="19" r="2.8"/><circle class="eye" cx="31" cy="19" r="2.8"/>` +
      `<path class="mouth" d="${MOUTHS[level]}"/></svg>`;
  }

  function buildRating() {
    $("scores").replaceChildren(...SCORES.map((level) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "score";
      button.setAttribute("role", "radio");
      button.setAttribute("aria-checked", "false");
      button.dataset.score = String(level);
      button.innerHTML = face(level);
      const label = document.createElement("span");
      say(label, `rating.score.${level}`);
      button.append(label);
      button.addEventListener("click", () => pickScore(level));
      return button;
    }));
    // The reasons the server accepts, in the catalogue's order; each shown in the catalogue's words.
    $("reasons").replaceChildren(...settings.reasons.map((reason) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.reason = reason;
      chip.setAttribute("aria-pressed", "false");
      say(chip, `rating.reasons.${reason}`);
      chip.addEventListener("click", () => chip.setAttribute("aria-pressed",
        String(chip.getAttribute("aria-pressed") !== "true")));
      return chip;
    }));
    say($("submit"), "rating.submit");
    $("rating").addEventListener("submit", submitRating);
  }

  function pickScore(level) {
    score = level;
    for (const b of $("scores").children) b.setAttribute("aria-checked", String(b.dataset.score === String(level)));
    $("rating-message").hidden = true;
  }

  async function submitRating(event) {
    event.preventDefault();
    if (sending) return;
    if (score === null) { ratingMessage("rating.pick_score"); return; }
    const reasons = [...document.querySelectorAll(".chip[aria-pressed='true']")].map((c) => c.dataset.reason);
    setSending(true);
    try {
      const answer = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/rating`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ score, reasons, comment: $("comment").value.trim() }),
      });
      if (answer.status === 201) { thank("rating.thanks_note"); return; }
      const code = await errorCode(answer);
      if (code === "already_rated") { thank("rating.already"); return; }
      ratingMessage({ not_done: "rating.not_done", bad_comment: "rating.bad_comment" }[code] || "rating.error");
    } catch (error) {
      ratingMessage("rating.error");  // offline: the form keeps what was typed, to try again
    } finally {
      setSending(false);
    }
  }

  async function errorCode(answer) {
    try { return (await answer.json()).error.code; } catch (error) { return null; }
  }

  function setSending(on) {
    sending = on;
    $("submit").disabled = on;
    say($("submit"), on ? "rating.sending" : "rating.submit");
  }

  function ratingMessage(key) {
    const message = $("rating-message");
    say(message, key);
    message.hidden = false;
    message.scrollIntoView({ block: "center" });
  }

  function thank(noteKey) {
    thanked = noteKey;
    if (view) render();
    window.scrollTo(0, 0);
  }

  // ---- start ---------------------------------------------------------------------------------

  motcuaTexts(texts);
  buildRating();
  setSound("auto");
  $("sound").addEventListener("click", toggleSound);
  $("offer-take").addEventListener("click", takeOffer);

  motcuaLive({
    subscribe: { ticket: ticketId },
    pollUrl: `/api/v1/tickets/${encodeURIComponent(ticketId)}`,
    events: { ticket: applyView, called: onCalled, error: onSocketError },
    onPolled: applyView,
    onStatus: setBadge,
    onMissing: showMissing,
  });
})();
