// Background imports on a calendar's page: polls each unfinished import's progress (a small JSON
// endpoint) and updates its bar, state and summary until it is done or failed. Loaded as a file:
// the Content-Security-Policy allows no inline script.
(() => {
  const POLL_EVERY = 1500; // milliseconds
  const RETRY_AFTER = 5000; // after a failed poll (network, server restarting)
  const FINISHED = ["done", "failed"];

  const follow = (panel) => {
    const url = panel.dataset.importProgress;
    const bar = panel.querySelector("progress");
    const state = panel.querySelector("[data-import-state]");
    const summary = panel.querySelector("[data-import-summary]");
    const reload = panel.querySelector("[data-import-reload]");

    const show = (progress) => {
      panel.dataset.state = progress.state;
      bar.value = progress.percent;
      bar.textContent = `${progress.percent} %`;
      state.textContent = progress.state_label;
      summary.textContent = progress.summary;
      if (progress.finished) panel.classList.add(progress.state === "done" ? "notice-ok" : "notice-warn");
      if (progress.state === "done") reload.hidden = false;
    };

    const poll = async () => {
      let progress;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        progress = await response.json();
      } catch {
        window.setTimeout(poll, RETRY_AFTER);
        return;
      }
      show(progress);
      if (!progress.finished) window.setTimeout(poll, POLL_EVERY);
    };

    window.setTimeout(poll, POLL_EVERY);
  };

  const start = () => {
    document.querySelectorAll("[data-import-progress]").forEach((panel) => {
      if (!FINISHED.includes(panel.dataset.state)) follow(panel);
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
