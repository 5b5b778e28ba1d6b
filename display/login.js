// Staff sign-in: the session goes into an HttpOnly cookie; then on to the page asked for, or to
// the one the role works in.
(function () {
  "use strict";
  const HOME = { officer: "/counter", manager: "/manager", admin: "/admin", department: "/department" };
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const submit = document.getElementById("login-submit");

  // Only a page of this server, as the browser itself resolves the address: "/\t/evil.example"
  // (tabs and line breaks are dropped), "/\\evil", "//evil" or "https:evil" would leave it. The
  // resolved address is the one followed, so what was checked is what is opened.
  function next(role) {
    const asked = new URLSearchParams(location.search).get("next") || "";
    let url = null;
    try { url = new URL(asked, location.origin); } catch (e) { /* not an address: the role's page */ }
    if (asked.startsWith("/") && url && url.origin === location.origin && url.pathname !== "/login") return url.href;
    return HOME[role] || "/";
  }

  // The error is said at once (role=alert) and tied to the inputs it is about, which are marked invalid.
  function show(text, fields) {
    error.textContent = text;
    error.hidden = !text;
    for (const input of form.querySelectorAll("input")) {
      if (text && fields.includes(input)) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", "login-error");
      } else {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = [document.getElementById("username"), document.getElementById("password")];
    const username = fields[0].value.trim();
    const password = fields[1].value;
    if (!username || !password) {
      show(Staff.t("staff.login.missing"), fields.filter((input) => !input.value.trim()));
      form.querySelector("[aria-invalid]").focus();
      return;
    }
    submit.disabled = true;
    show("", []);
    const result = await Staff.api("POST", "/auth/session", { username: username, password: password });
    submit.disabled = false;
    if (result.status === 200) { location.assign(next(result.body.role)); return; }
    if (result.status === 429) show(Staff.t("staff.login.throttled"), []);
    else if (result.status === 401) show(Staff.t("staff.login.wrong"), fields);
    else show(Staff.errorText(result), []);
    document.getElementById("password").select();
  });

  document.getElementById("staff-lang").addEventListener("click", Staff.toggleLanguage);
  Staff.translate();
  document.getElementById("username").focus();
})();
