// The admin page: branches, services, counters, users and devices, changed live through
// /api/v1/admin. Every change is answered by the server once committed; the page then reads the
// whole network again, so what it shows is what the engine, the kiosks and the displays now use.
(function () {
  "use strict";
  const t = Staff.t;
  const $ = (id) => document.getElementById(id);
  const ROLES = ["officer", "manager", "admin"];
  const KINDS = ["kiosk", "display"];
  // What the server refuses is also checked here first, to say exactly what is wrong.
  const LETTER = /^[A-Z]{1,2}$/;
  const SERVICE_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
  const COUNTER_ID = /^[0-9A-Za-z-]{1,8}$/;
  const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
  let network = { branches: [], services: [] };
  let users = [];
  let devices = [];
  let tab = "branches";
  let counterBranch = null;
  let live = null;

  // ---- small helpers -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name in node && typeof value !== "string") node[name] = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function input(name, value, attrs) {
    return el("input", Object.assign({ name: name, value: value === undefined || value === null ? "" : String(value) }, attrs));
  }

  function button(key, cls, onClick) {
    const node = el("button", { type: "button", class: cls || "", text: t(key) });
    node.addEventListener("click", onClick);
    return node;
  }

  function select(name, options, chosen, cls) {
    const node = el("select", { name: name, class: cls || "" });
    for (const [value, label] of options) node.append(el("option", { value: value, text: label }));
    node.value = chosen === null || chosen === undefined ? "" : chosen;
    return node;
  }

  function serviceName(id) {
    const service = network.services.find((s) => s.id === id);
    return service ? `${service.letter} · ${service.name[Staff.lang()]}` : id;
  }

  function branchName(id) {
    const branch = network.branches.find((b) => b.id === id);
    return branch ? branch.name[Staff.lang()] : id;
  }

  function checks(name, chosen) {
    const box = el("div", { class: "checks" });
    for (const service of network.services) {
      const box_ = el("input", { type: "checkbox", name: name, value: service.id });
      box_.checked = chosen.includes(service.id);
      box.append(el("label", { class: "check" }, [box_, el("span", { text: serviceName(service.id) })]));
    }
    return box;
  }

  function checked(root, name) {
    return Array.from(root.querySelectorAll(`input[name="${name}"]:checked`)).map((b) => b.value);
  }

  function say(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = "message " + kind;
    box.hidden = !text;
  }

  function refusal(result) {
    const error = result && result.body && result.body.error;
    const key = error ? "admin.error." + error.code : "";
    const text = key ? t(key) : key;
    return key && text !== key ? text : Staff.errorText(result);
  }

  // A change: sent, and on success the network read again and the result said in words.
  async function change(method, path, body, doneKey, params) {
    const result = await Staff.api(method, path, body);
    if (result.status >= 200 && result.status < 300) {
      await refresh();
      say(t(doneKey, params), "ok");
      return result.body;
    }
    say(refusal(result), "bad");
    return null;
  }

  function wrong(key, params) {
    say(t(key, params), "bad");
    return false;
  }

  // ---- reading -------------------------------------------------------------------------------

  async function refresh() {
    const [net, people, kit] = await Promise.all([
      Staff.api("GET", "/admin/network"), Staff.api("GET", "/admin/users"), Staff.api("GET", "/admin/devices")]);
    if (net.status !== 200 || people.status !== 200 || kit.status !== 200) {
      say(refusal([net, people, kit].find((r) => r.status !== 200)), "bad");
      return;
    }
    network = net.body;
    users = people.body;
    devices = kit.body;
    if (!counterBranch || !network.branches.some((b) => b.id === counterBranch)) counterBranch = network.branches[0].id;
    render();
  }

  function render() {
    renderBranches();
    renderServices();
    renderCounters();
    renderUsers();
    renderDevices();
    const first = network.branches.length ? network.branches[0].id : "";
    document.querySelectorAll("form select.branches").forEach((s) => fillBranches(s, s.value || first));
    document.querySelectorAll("select.roles").forEach((s) => fillOptions(s, ROLES.map((r) => [r, t("staff.role." + r)])));
    document.querySelectorAll("select.kinds").forEach((s) => fillOptions(s, KINDS.map((k) => [k, t("admin.kind." + k)])));
    $("new-counter-services").replaceChildren(...checks("new-service", checked($("new-counter"), "new-service")).childNodes);
    Staff.translate();
  }

  function fillOptions(node, options) {
    const chosen = node.value;
    node.replaceChildren(...options.map(([value, label]) => el("option", { value: value, text: label })));
    if (options.some(([value]) => value === chosen)) node.value = chosen;
  }

  function fillBranches(node, chosen) {
    fillOptions(node, [["", t("admin.no_branch")], ...network.branches.map((b) => [b.id, `${b.id} · ${b.name[Staff.lang()]}`])]);
    node.value = chosen || "";
  }

  // ---- branches ------------------------------------------------------------------------------

  function renderBranches() {
    $("branches").replaceChildren(...network.branches.map((branch) => {
      const row = el("tr", { "data-branch": branch.id });
      const offered = el("td", { class: "offered" }, [checks("offered", branch.services)]);
      row.append(
        el("td", { class: "id", text: branch.id }),
        el("td", {}, [input("name_vi", branch.name.vi, { class: "wide" })]),
        el("td", {}, [input("name_en", branch.name.en, { class: "wide" })]),
        // Text, not type=time: a browser shows that as 12-hour "07:30 AM" in some locales.
        el("td", {}, [input("open", branch.open, { class: "time", maxlength: "5", inputmode: "numeric", placeholder: "07:30" })]),
        el("td", {}, [input("close", branch.close, { class: "time", maxlength: "5", inputmode: "numeric", placeholder: "17:00" })]),
        offered,
        el("td", { class: "actions" }, [button("admin.save", "primary", () => saveBranch(branch, row))]));
      return row;
    }));
  }

  function saveBranch(branch, row) {
    const value = (name) => row.querySelector(`[name="${name}"]`).value.trim();
    if (!value("name_vi") || !value("name_en")) return wrong("admin.check.name_needed");
    if (!HHMM.test(value("open")) || !HHMM.test(value("close"))) return wrong("admin.check.hours");
    if (value("open") >= value("close")) return wrong("admin.error.bad_hours");
    return change("PATCH", `/admin/branches/${encodeURIComponent(branch.id)}`,
                  { name: { vi: value("name_vi"), en: value("name_en") }, open: value("open"), close: value("close"),
                    services: checked(row, "offered") },
                  "admin.done.branch", { branch: branch.id });
  }

  // ---- services ------------------------------------------------------------------------------

  function renderServices() {
    $("services").replaceChildren(...network.services.map((service) => {
      const row = el("tr", { "data-service": service.id });
      row.append(
        el("td", { class: "id", text: service.id }),
        el("td", {}, [input("letter", service.letter, { class: "tiny", maxlength: "2" })]),
        el("td", {}, [input("name_vi", service.name.vi)]),
        el("td", {}, [input("name_en", service.name.en)]),
        el("td", {}, [input("description_vi", service.description.vi, { class: "wide" })]),
        el("td", {}, [input("description_en", service.description.en, { class: "wide" })]),
        el("td", {}, [input("mean_min", service.mean_min, { type: "number", min: "0.5", max: "240", step: "0.5", class: "tiny" })]),
        el("td", { class: "actions" }, [button("admin.save", "primary", () => saveService(service, row))]));
      return row;
    }));
  }

  function serviceFields(root) {
    const value = (name) => root.querySelector(`[name="${name}"]`).value.trim();
    const fields = {
      letter: value("letter").toUpperCase(), mean_min: Number(value("mean_min")),
      name: { vi: value("name_vi"), en: value("name_en") },
      description: { vi: value("description_vi"), en: value("description_en") },
    };
    if (!fields.name.vi || !fields.name.en) return wrong("admin.check.name_needed");
    if (!LETTER.test(fields.letter)) return wrong("admin.error.bad_letter");
    if (!value("mean_min") || !(fields.mean_min >= 0.5 && fields.mean_min <= 240)) return wrong("admin.error.bad_mean");
    return fields;
  }

  function saveService(service, row) {
    const fields = serviceFields(row);
    if (!fields) return null;
    return change("PATCH", `/admin/services/${encodeURIComponent(service.id)}`, fields, "admin.done.service",
                  { service: fields.name[Staff.lang()] });
  }

  async function addService(event) {
    event.preventDefault();
    const form = $("new-service");
    const id = form.elements.id.value.trim();
    if (!SERVICE_ID.test(id)) return wrong("admin.error.bad_id");
    const fields = serviceFields(form);
    if (!fields) return null;
    const added = await change("POST", "/admin/services", Object.assign({ id: id }, fields), "admin.done.service_added",
                               { service: fields.name[Staff.lang()] });
    if (added) { form.reset(); form.elements.mean_min.value = "10"; }
    return added;
  }

  // ---- counters ------------------------------------------------------------------------------

  function renderCounters() {
    const pick = $("counter-branch");
    fillOptions(pick, network.branches.map((b) => [b.id, `${b.id} · ${b.name[Staff.lang()]}`]));
    pick.value = counterBranch;
    const branch = network.branches.find((b) => b.id === counterBranch);
    if (!branch) return;
    $("counters").replaceChildren(...branch.counters.map((counter) => {
      const row = el("tr", { "data-counter": counter.id });
      const open = el("input", { type: "checkbox", name: "open" });
      open.checked = counter.open;
      row.append(
        el("td", { class: "id big", text: counter.id }),
        el("td", {}, [checks("services", counter.services)]),
        el("td", {}, [el("label", { class: "check" }, [open, el("span", { text: t("admin.field.is_open") })])]),
        el("td", { class: "serving", text: counter.serving || "—" }),
        el("td", { class: "actions" }, [
          button("admin.save", "primary", () => saveCounter(branch, counter, row)),
          button("admin.counters.remove", "danger", () => removeCounter(branch, counter))]));
      return row;
    }));
    watch(branch.id);
  }

  function saveCounter(branch, counter, row) {
    const services = checked(row, "services");
    if (!services.length) return wrong("admin.error.no_services");
    return change("PATCH", `/admin/branches/${encodeURIComponent(branch.id)}/counters/${encodeURIComponent(counter.id)}`,
                  { services: services, open: row.querySelector('[name="open"]').checked }, "admin.done.counter",
                  { counter: counter.id });
  }

  function removeCounter(branch, counter) {
    if (!window.confirm(t("admin.counters.confirm_remove", { counter: counter.id, branch: branchName(branch.id) }))) return null;
    return change("DELETE", `/admin/branches/${encodeURIComponent(branch.id)}/counters/${encodeURIComponent(counter.id)}`,
                  undefined, "admin.done.counter_removed", { counter: counter.id });
  }

  async function addCounter(event) {
    event.preventDefault();
    const form = $("new-counter");
    const id = form.elements.id.value.trim();
    const services = checked(form, "new-service");
    if (!COUNTER_ID.test(id)) return wrong("admin.error.bad_id");
    if (!services.length) return wrong("admin.error.no_services");
    const added = await change("POST", `/admin/branches/${encodeURIComponent(counterBranch)}/counters`,
                               { id: id, services: services }, "admin.done.counter_added", { counter: id });
    if (added) form.reset();
    return added;
  }

  // The chosen branch's staff room: who holds which ticket changes all day, and another admin's
  // changes show without a reload.
  function watch(branchId) {
    if (live && live.branch === branchId) return;
    if (live) live.socket.close();
    live = { branch: branchId, socket: Staff.socket(branchId, { staff_queue: onStaffState }) };
  }

  function onStaffState(state) {
    const branch = network.branches.find((b) => b.id === state.branch);
    if (!branch) return;
    for (const counter of state.counters) {
      const cell = document.querySelector(`#counters tr[data-counter="${CSS.escape(counter.id)}"] .serving`);
      if (cell) cell.textContent = counter.ticket ? counter.ticket.number : "—";
    }
  }

  // ---- users ---------------------------------------------------------------------------------

  function renderUsers() {
    $("users").replaceChildren(...users.map((user) => {
      const row = el("tr", { "data-user": user.username, class: user.disabled ? "disabled" : "" });
      const branch = el("select", { name: "branch", class: "branches" });
      fillBranches(branch, user.branch);
      branch.disabled = user.role === "admin";  // an admin belongs to every branch
      const state = el("span", { class: "pill " + (user.disabled ? "bad" : "ok"),
                                 text: t(user.disabled ? "admin.users.disabled" : "admin.users.enabled") });
      const password = input("password", "", { type: "password", autocomplete: "new-password", class: "short" });
      row.append(
        el("td", { class: "id", text: user.username }),
        el("td", {}, [roleSelect(user.role, branch)]),
        el("td", {}, [branch]),
        el("td", {}, [state]),
        el("td", { class: "password" }, [password, button("admin.users.reset", "", () => resetPassword(user, password))]),
        el("td", { class: "actions" }, [
          button("admin.save", "primary", () => saveUser(user, row)),
          user.disabled ? button("admin.users.enable", "", () => setDisabled(user, false))
                        : button("admin.users.disable", "danger", () => setDisabled(user, true))]));
      return row;
    }));
  }

  function roleSelect(role, branch) {
    const node = select("role", ROLES.map((r) => [r, t("staff.role." + r)]), role, "roles");
    node.addEventListener("change", () => {
      branch.disabled = node.value === "admin";
      if (!branch.disabled && !branch.value && network.branches.length) branch.value = network.branches[0].id;
    });
    return node;
  }

  function saveUser(user, row) {
    const role = row.querySelector('[name="role"]').value;
    const branch = row.querySelector('[name="branch"]').value;
    if (role !== "admin" && !branch) return wrong("admin.error.branch_needed");
    return change("PATCH", `/admin/users/${encodeURIComponent(user.username)}`,
                  { role: role, branch: role === "admin" ? null : branch }, "admin.done.user", { user: user.username });
  }

  function setDisabled(user, disabled) {
    if (disabled && !window.confirm(t("admin.users.confirm_disable", { user: user.username }))) return null;
    return change("PATCH", `/admin/users/${encodeURIComponent(user.username)}`, { disabled: disabled },
                  disabled ? "admin.done.user_disabled" : "admin.done.user_enabled", { user: user.username });
  }

  function resetPassword(user, field) {
    if (field.value.length < 8) return wrong("admin.error.weak_password");
    return change("POST", `/admin/users/${encodeURIComponent(user.username)}/password`, { password: field.value },
                  "admin.done.password", { user: user.username });
  }

  async function addUser(event) {
    event.preventDefault();
    const form = $("new-user");
    const body = { username: form.elements.username.value.trim(), password: form.elements.password.value,
                   role: form.elements.role.value, branch: form.elements.branch.value || null };
    if (!body.username) return wrong("admin.error.bad_username");
    if (body.password.length < 8) return wrong("admin.error.weak_password");
    if (body.role === "admin") body.branch = null;
    else if (!body.branch) return wrong("admin.error.branch_needed");
    const added = await change("POST", "/admin/users", body, "admin.done.user_added", { user: body.username });
    if (added) form.reset();
    return added;
  }

  // ---- devices -------------------------------------------------------------------------------

  function renderDevices() {
    $("devices").replaceChildren(...devices.map((device) => el("tr", { "data-device": device.id }, [
      el("td", { class: "id", text: device.id }),
      el("td", { text: t("admin.kind." + device.kind) }),
      el("td", { text: `${device.branch} · ${branchName(device.branch)}` }),
      el("td", { text: device.created_at.slice(0, 16).replace("T", " ") }),
      el("td", { class: "actions" }, [button("admin.devices.revoke", "danger", () => revokeDevice(device))]),
    ])));
  }

  function revokeDevice(device) {
    if (!window.confirm(t("admin.devices.confirm_revoke", { device: device.id }))) return null;
    $("device-token").hidden = true;
    return change("DELETE", `/admin/devices/${encodeURIComponent(device.id)}`, undefined, "admin.done.device_revoked",
                  { device: device.id });
  }

  async function addDevice(event) {
    event.preventDefault();
    const form = $("new-device");
    const added = await change("POST", "/admin/devices", { kind: form.elements.kind.value, branch: form.elements.branch.value },
                               "admin.done.device_added", {});
    if (added) {
      // Shown this once: the server keeps only the token's hash.
      $("device-token").replaceChildren(el("span", { text: t("admin.devices.token", { device: added.id }) }),
                                        el("code", { id: "device-token-value", text: added.token }));
      $("device-token").dataset.device = added.id;
      $("device-token").hidden = false;
    }
    return added;
  }

  // ---- the page ------------------------------------------------------------------------------

  function show(name) {
    tab = name;
    document.querySelectorAll(".tabs [data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== "tab-" + name; });
    history.replaceState(null, "", "#" + name);
  }

  async function main() {
    const session = await Staff.session();
    Staff.header("admin.title", () => { document.title = `${t("admin.title")} — motcua`; render(); });
    document.title = `${t("admin.title")} — motcua`;
    if (session.role !== "admin") { $("not-admin").hidden = false; Staff.translate(); return; }
    $("admin").hidden = false;
    document.querySelectorAll(".tabs [data-tab]").forEach((b) => b.addEventListener("click", () => show(b.dataset.tab)));
    $("counter-branch").addEventListener("change", (event) => { counterBranch = event.target.value; renderCounters(); Staff.translate(); });
    $("new-service").addEventListener("submit", addService);
    $("new-counter").addEventListener("submit", addCounter);
    $("new-user").addEventListener("submit", addUser);
    $("new-device").addEventListener("submit", addDevice);
    const asked = location.hash.slice(1);
    show(["branches", "services", "counters", "users", "devices"].includes(asked) ? asked : tab);
    await refresh();
    document.body.dataset.ready = "true";
  }

  main();
})();
