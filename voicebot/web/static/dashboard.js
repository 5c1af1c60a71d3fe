// Draws the dashboard's figures (computed on the server) with the locally served plotly.js; a click on a
// bar opens the calls behind it; the page refreshes itself every minute while it shows today.
"use strict";
(function () {
  const source = document.getElementById("figures");
  const period = document.getElementById("period");
  if (period) {
    period.addEventListener("change", () => { if (period.value !== "custom") period.form.submit(); });
    document.querySelectorAll('#period-form input[type="date"]').forEach((input) =>
      input.addEventListener("change", () => { period.value = "custom"; }));
  }
  const refresh = document.getElementById("auto-refresh");
  if (refresh) {
    const seconds = Number(refresh.dataset.seconds) || 60;
    setInterval(() => { if (!document.hidden) location.reload(); }, seconds * 1000);
  }
  if (!source || !window.Plotly) return;
  const figures = JSON.parse(source.textContent);
  const drill = source.dataset.drill === "1"; // only roles that may open calls drill down into them
  const config = { displaylogo: false, responsive: true, locale: "ru",
                   modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
  document.querySelectorAll("[data-figure]").forEach((element) => {
    const figure = figures[element.dataset.figure];
    if (!figure) return;
    Plotly.newPlot(element, figure.data, figure.layout, config);
    element.on("plotly_click", (event) => {
      const point = event.points && event.points[0];
      const link = point && point.customdata;
      if (drill && typeof link === "string" && link.startsWith("/calls?")) location.href = link;
    });
    if (drill && figure.data.some((trace) => trace.customdata)) element.classList.add("clickable");
  });
})();
