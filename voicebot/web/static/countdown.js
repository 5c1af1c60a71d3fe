// Countdowns to deadlines: every [data-deadline] element shows the time left (or how late it is), each second.
"use strict";
window.VBCountdown = (function () {
  let offset = 0;  // server clock minus browser clock, so a wrong PC clock does not move deadlines
  const near = () => (window.VBLiveNear || 120);
  function two(n) { return String(n).padStart(2, "0"); }
  function span(seconds) {
    const s = Math.abs(Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" + two(m) : two(m)) + ":" + two(r);
  }
  function tick() {
    const now = Date.now() + offset;
    document.querySelectorAll("[data-deadline]").forEach((el) => {
      const left = (Date.parse(el.dataset.deadline) - now) / 1000;
      if (isNaN(left)) return;
      el.textContent = left >= 0 ? "осталось " + span(left) : "просрочено на " + span(left);
      el.classList.toggle("late", left < 0);
      el.classList.toggle("near", left >= 0 && left <= near());
      el.dataset.left = Math.round(left);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  return { tick, setServerNow(iso) { const t = Date.parse(iso); if (!isNaN(t)) offset = t - Date.now(); }, span };
})();
