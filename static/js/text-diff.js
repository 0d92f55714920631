// Text diffs on a change request: each gets a button that switches between the source (the changed
// lines, the changed words marked) and the rendered text before and after, side by side. Without
// JavaScript the button stays hidden and the source shows, which says everything that changes.
document.querySelectorAll("[data-text-diff]").forEach((diff) => {
  const button = diff.querySelector("[data-text-diff-toggle]");
  const source = diff.querySelector("[data-text-diff-source]");
  const rendered = diff.querySelector("[data-text-diff-rendered]");
  if (!button || !source || !rendered) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const showRendered = rendered.hidden;
    rendered.hidden = !showRendered;
    source.hidden = showRendered;
    button.setAttribute("aria-pressed", String(showRendered));
    button.textContent = showRendered ? "Show the source" : "Show rendered";
  });
});
