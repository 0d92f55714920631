// The header search box suggests as you type (an ARIA combobox over /search/suggest/): services first,
// each opening its on-call card. Arrow keys move, Enter opens the highlighted line (the first one unless
// you moved), Ctrl/⌘+Enter or the last line gives every result, Escape closes. Without this script the box
// is a plain form that submits to /search/.
(() => {
  const box = document.getElementById("site-search-q");
  const panel = document.getElementById("site-search-suggestions");
  if (!box || !panel || !box.dataset.suggestUrl) return;
  const form = box.form;
  const DELAY_MS = 60;

  let timer = null;
  let controller = null;
  let shownFor = null; // the text the panel's suggestions answer
  let pending = null; // { text, request } of the fetch in flight
  let active = -1;

  const options = () => Array.from(panel.querySelectorAll('[role="option"]'));

  function setActive(index) {
    const all = options();
    all.forEach((option, position) => option.setAttribute("aria-selected", String(position === index)));
    active = all.length ? Math.max(0, Math.min(index, all.length - 1)) : -1;
    if (active >= 0) {
      box.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function open() {
    if (!options().length) return close();
    panel.hidden = false;
    box.setAttribute("aria-expanded", "true");
    if (active < 0) setActive(0);
  }

  function close() {
    panel.hidden = true;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function load(text) {
    if (pending && pending.text === text) return pending.request;
    if (controller) controller.abort();
    controller = new AbortController();
    const url = `${box.dataset.suggestUrl}?q=${encodeURIComponent(text)}`;
    const request = fetch(url, { signal: controller.signal, credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(new Error(String(response.status)))))
      .then((html) => {
        if (box.value !== text) return;
        // Server-rendered and escaped by Django's templates (search/_suggestions.html).
        panel.innerHTML = html;
        shownFor = text;
        active = -1;
        if (document.activeElement === box) open();
      });
    pending = { text, request };
    request.then(
      () => {},
      () => {},
    ).finally(() => {
      if (pending && pending.request === request) pending = null;
    });
    return request;
  }

  function follow(text) {
    const all = options();
    if (shownFor === text && active >= 0 && all[active]) {
      window.location.assign(all[active].href);
    } else {
      form.submit();
    }
  }

  box.addEventListener("input", () => {
    clearTimeout(timer);
    const text = box.value;
    if (!text.trim()) {
      if (controller) controller.abort();
      pending = null;
      shownFor = null;
      panel.innerHTML = "";
      close();
      return;
    }
    timer = setTimeout(() => load(text).catch(() => {}), DELAY_MS);
  });

  box.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    const all = options();
    const showing = !panel.hidden && shownFor === box.value;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      if (panel.hidden) return open();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((active + step + all.length) % all.length);
    } else if (event.key === "Escape") {
      if (!panel.hidden) {
        event.preventDefault();
        close();
        active = -1; // Enter now submits the form: every result
      }
    } else if (event.key === "Enter") {
      const text = box.value;
      if (!text.trim() || event.ctrlKey || event.metaKey) return; // the form's own submit: every result
      event.preventDefault();
      if (showing || shownFor === text) {
        follow(text);
        return;
      }
      // Typed faster than the suggestions came: Enter acts on the suggestions for what is in the box.
      clearTimeout(timer);
      load(text).then(
        () => {
          if (active < 0) setActive(0);
          follow(text);
        },
        () => form.submit(),
      );
    }
  });

  box.addEventListener("focus", () => {
    if (shownFor === box.value && box.value.trim()) open();
  });
  box.addEventListener("blur", () => close());
  // A click on a line must not blur the box first (which would close the panel before the click lands).
  panel.addEventListener("mousedown", (event) => event.preventDefault());
  panel.addEventListener("mousemove", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) setActive(options().indexOf(option));
  });
})();
