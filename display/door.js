// The page the QR code at a branch's door opens (/door/{branch}?code=…): the citizen types the phone that
// took a remote ticket, and its tickets at this branch are checked in, called from now on. Every word
// comes from the catalogues, Vietnamese first, English smaller.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const settings = JSON.parse($("motcua-settings").textContent);
  const texts = settings.texts;
  const code = new URLSearchParams(window.location.search).get("code") || "";
  const ERRORS = { wrong_door_code: "door.wrong_code", unknown_ticket: "door.no_ticket", bad_phone: "door.bad_phone",
                   missing_field: "door.bad_phone" };
  let sending = false;

  function pair(el, key, values = {}) {
    const fill = (lang) => {
      const part = document.createElement("div");
      part.className = lang;
      if (lang === "en") part.lang = "en";
      part.textContent = (texts[lang][key] || "").replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
      return part;
    };
    el.replaceChildren(fill("vi"), fill("en"));
  }

  const names = window.motcuaNames;

  function message(key) {
    pair($("door-message"), key);
    $("door-message").hidden = false;
  }

  function setSending(on) {
    sending = on;
    $("check-in").disabled = on;
    pair($("check-in"), on ? "door.sending" : "door.check_in");
  }

  async function checkIn(event) {
    event.preventDefault();
    if (sending) return;
    $("door-message").hidden = true;
    setSending(true);
    try {
      const answer = await fetch(`/api/v1/branches/${encodeURIComponent(settings.branch.id)}/remote-tickets/check-in`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: $("phone").value, code }),
      });
      if (answer.status === 200) { showDone(await answer.json()); return; }
      if (answer.status === 429) { message("door.busy"); return; }
      let found = null;
      try { found = (await answer.json()).error.code; } catch (error) { found = null; }
      message(ERRORS[found] || "door.error");
    } catch (error) {
      message("door.error");
    } finally {
      setSending(false);
    }
  }

  // Each ticket checked in, as a link to its own page (the number, its service).
  function showDone(tickets) {
    $("door").hidden = true;
    $("done").hidden = false;
    $("tickets").replaceChildren(...tickets.map((ticket) => {
      const link = document.createElement("a");
      link.className = "button primary";
      link.href = `/t/${encodeURIComponent(ticket.id)}`;
      const number = document.createElement("div");
      number.className = "number";
      number.textContent = ticket.number;
      const service = document.createElement("div");
      const found = settings.services.find((s) => s.id === ticket.service);
      names(service, found ? found.name : { vi: ticket.service, en: ticket.service });
      link.append(number, service);
      return link;
    }));
    window.scrollTo(0, 0);
  }

  motcuaTexts(texts);
  names($("branch"), settings.branch.name);
  pair($("check-in"), "door.check_in");
  if (!code) message("door.wrong_code");   // opened without the door's QR code
  $("door").addEventListener("submit", checkIn);
})();
