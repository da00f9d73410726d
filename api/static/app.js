// The pages work without this file. It adds one shortcut: "/" jumps to the search box
// (as on many sites), unless the reader is typing in a field already.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select")) return;
  const box = document.getElementById("q");
  if (box) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});

// On a phone the filters start folded (unless some are on), so the results come first.
const filters = document.querySelector("details.filters");
if (filters && !filters.hasAttribute("data-active") && window.matchMedia("(max-width: 760px)").matches) {
  filters.open = false;
}
