// Passerelle's one script: optional. Every page works without it; with it,
// uploads show their progress, imports and reconnections update live.
"use strict";
(function () {
  const $ = (s, el) => (el || document).querySelector(s);

  // The language switcher applies on change.
  document.querySelectorAll("[data-autosubmit]").forEach((el) =>
    el.addEventListener("change", () => el.form.submit()));
  document.querySelectorAll("[data-back]").forEach((el) =>
    el.addEventListener("click", (e) => { if (history.length > 1) { e.preventDefault(); history.back(); } }));

  // Upload: drag and drop onto the zone, upload progress, then the import page.
  const form = $("#upload-form");
  if (form) {
    const drop = $("#drop"), input = $("#archive"), bar = $("#upload-progress"), status = $("#upload-status");
    ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
    drop.addEventListener("drop", (e) => { input.files = e.dataTransfer.files; });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", data.get("csrf"));
      bar.hidden = false;
      xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) bar.value = Math.round((ev.loaded * 100) / ev.total); };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (_) {}
        if (xhr.status === 200 && body.upload) { location.href = "/imports/" + body.upload; return; }
        status.textContent = body.error || xhr.statusText;
        status.classList.add("error");
      };
      xhr.onerror = () => { status.textContent = "network error"; status.classList.add("error"); };
      xhr.send(data);
    });
  }

  // Import: progress events from the server until done.
  const imp = $("#import");
  if (imp && window.EventSource) {
    const es = new EventSource(imp.dataset.events);
    es.addEventListener("progress", (ev) => {
      const s = JSON.parse(ev.data);
      $("#import-progress").value = s.percent;
      $(".percent", imp).textContent = s.percent;
      $(".state", imp).textContent = s.state;
      if (s.error) { const e = $("#import-error"); e.textContent = s.error; e.hidden = false; }
      if (s.state === "done") { $("#import-done").hidden = false; es.close(); }
      if (s.state === "failed") es.close();
    });
  }

  // Reconnections: the run's progress, polled until every task is done.
  const rec = $("#rec-progress");
  if (rec) {
    const tick = async () => {
      const r = await fetch(rec.dataset.progress, { headers: { Accept: "application/json" } });
      if (!r.ok) return;
      const p = await r.json();
      $("progress", rec).max = p.tasks; $("progress", rec).value = p.done + p.failed;
      $(".done", rec).textContent = p.done; $(".tasks", rec).textContent = p.tasks;
      if (p.waiting > 0) setTimeout(tick, 1000); else rec.dataset.done = "1";
    };
    setTimeout(tick, 500);
  }
})();
