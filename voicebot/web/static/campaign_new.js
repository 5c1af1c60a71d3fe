// The new campaign form: show the CSV columns of the chosen scenario.
"use strict";
(function () {
  const select = document.getElementById("scenario-select");
  if (!select) return;
  const show = () => document.querySelectorAll(".scenario-columns").forEach((el) => { el.hidden = el.dataset.scenario !== select.value; });
  select.addEventListener("change", show);
  show();
})();
