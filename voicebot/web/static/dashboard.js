// Draws the dashboard's figures (computed on the server) with the locally served plotly.js.
"use strict";
(function () {
  const source = document.getElementById("figures");
  const period = document.getElementById("period");
  if (period) {
    period.addEventListener("change", () => { if (period.value !== "custom") period.form.submit(); });
    document.querySelectorAll('#period-form input[type="date"]').forEach((input) =>
      input.addEventListener("change", () => { period.value = "custom"; }));
  }
  if (!source || !window.Plotly) return;
  const figures = JSON.parse(source.textContent);
  const config = { displaylogo: false, responsive: true, locale: "ru",
                   modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
  document.querySelectorAll("[data-figure]").forEach((element) => {
    const figure = figures[element.dataset.figure];
    if (figure) Plotly.newPlot(element, figure.data, figure.layout, config);
  });
})();
