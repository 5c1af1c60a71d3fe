// Live progress of campaigns that are not finished: polls every few seconds while the page is visible.
"use strict";
(function () {
  const STATUS = { draft: "Черновик", running: "Идёт", paused: "Пауза", cancelled: "Отменена", finished: "Завершена" };
  const cells = () => Array.from(document.querySelectorAll("[data-poll]"));
  async function refresh() {
    const ids = cells().map((cell) => cell.dataset.poll);
    if (!ids.length || document.hidden) return;
    let data;
    try { data = await VB.request("GET", "/campaigns/progress.json?ids=" + ids.join(",")); } catch (e) { return; }
    Object.entries(data).forEach(([id, p]) => {
      document.querySelectorAll('.progress[data-campaign="' + id + '"]').forEach((bar) => {
        bar.querySelector(".bar span").style.width = p.percent + "%";
        bar.querySelector(".progress-text").textContent = p.finished + " из " + p.total + " (" + p.percent + " %)";
      });
      document.querySelectorAll('[data-campaign-status="' + id + '"]').forEach((el) => { el.textContent = STATUS[p.status] || p.status; });
    });
  }
  if (cells().length) setInterval(refresh, 3000);
})();
