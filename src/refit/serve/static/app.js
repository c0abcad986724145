// refit serve: the campaign page's live updates (server-sent events) and its confirmed actions. Vanilla JS,
// vendored; the page works without it (reload to refresh, the actions post a plain form).
"use strict";

const LIVE = ["running", "paused", "interrupted"];
const CONTROLLED = ["swap", "rollback", "apply"]; // refit.run.control.KINDS

function syncButtons(form) {
  const status = form.dataset.status, control = form.dataset.control;
  const live = LIVE.includes(status) && CONTROLLED.includes(form.dataset.kind);
  const enabled = {
    pause: live && !control,
    resume: live && control === "pause",
    abort: live && control !== "abort",
  };
  for (const b of form.querySelectorAll("button[name=action]")) b.disabled = !enabled[b.value];
}

function confirmAction(text) {
  // A modal <dialog>: focus moves into it, Escape cancels, Tab stays inside it.
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}

function wireActions(form) {
  const result = document.getElementById("action-result");
  syncButtons(form);
  for (const b of form.querySelectorAll("button[name=action]")) {
    b.addEventListener("click", async (ev) => {
      ev.preventDefault();
      if (!(await confirmAction(b.dataset.confirm))) {
        result.textContent = "Nothing done.";
        b.focus();
        return;
      }
      const body = new URLSearchParams(new FormData(form)); // urlencoded, as the plain form posts it
      body.set("action", b.value);
      try {
        // getAttribute: `form.action` is the buttons named "action", not the form's URL
        const resp = await fetch(form.getAttribute("action"), { method: "POST", body, headers: { Accept: "application/json" },
          credentials: "same-origin" });
        const data = await resp.json();
        result.textContent = data.message;
        result.className = data.ok ? "" : "bad-text";
      } catch (e) {
        result.textContent = "The page could not reach refit serve: " + e;
        result.className = "bad-text";
      }
      b.focus();
    });
  }
}

function follow(live, form) {
  const source = new EventSource(live.dataset.stream);
  source.addEventListener("campaign", (ev) => {
    const data = JSON.parse(ev.data);
    live.innerHTML = data.html;
    if (form) {
      form.dataset.status = data.status;
      form.dataset.control = data.control;
      syncButtons(form);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("actions");
  if (form) wireActions(form);
  const live = document.getElementById("live");
  if (live && live.dataset.stream) follow(live, form);
});
