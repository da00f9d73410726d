// Opening a result counts as a click for analytics (verdict "opened": it moves no
// ranking). Sent as a beacon, so following the link is never delayed.
document.addEventListener("click", (event) => {
  const link = event.target.closest("ol.hits h3 a");
  const list = link && link.closest("ol.hits");
  const hit = link && link.closest("li.hit");
  if (!link || !list || !hit || !navigator.sendBeacon) return;
  const form = new FormData();
  form.append("q", list.dataset.q);
  form.append("id", hit.dataset.id);
  form.append("verdict", "opened");
  navigator.sendBeacon("/feedback", form);
});
