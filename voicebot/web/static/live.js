// The live operations view: renders snapshots from the server-sent event stream, ticks durations and
// countdowns, and raises a visual and (if enabled) audible alert when a review or callback deadline is near.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("live-config").textContent);
  window.VBLiveNear = config.near;
  const L = config.labels;
  const label = (table, code) => (code ? (L[table] && L[table][code]) || code : "—");
  const plural = (n, one, few, many) => {
    const a = Math.abs(n) % 100, b = a % 10;
    if (b === 1 && a !== 11) return one;
    if (b >= 2 && b <= 4 && (a < 12 || a > 14)) return few;
    return many;
  };
  let sound = false, alerted = new Set(), audio = null;
  const state = document.getElementById("live-state");

  function cell(row, text, name, cls) {
    const td = document.createElement("td");
    td.dataset.label = name;
    if (cls) td.className = cls;
    if (text instanceof Node) td.appendChild(text); else td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function countdown(deadline) {
    const span = document.createElement("span");
    span.className = "countdown";
    span.dataset.deadline = deadline;
    return span;
  }
  function time(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "—" : d.toLocaleTimeString("ru-RU", { timeZone: config.tz, hour: "2-digit", minute: "2-digit" });
  }
  function fill(id, rows, build) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren(...rows.map(build));
    document.getElementById(id).hidden = rows.length === 0;
    document.getElementById(id + "-empty").hidden = rows.length !== 0;
  }
  function callRow(c) {
    const tr = document.createElement("tr");
    tr.dataset.call = c.id;
    const since = document.createElement("span");
    since.className = "elapsed";
    since.dataset.since = c.started_at;
    cell(tr, since, "Длительность");
    cell(tr, c.phone, "Абонент");
    cell(tr, label("direction", c.direction) + (c.channel !== "voice" ? " · " + label("channel", c.channel) : ""), "Направление");
    cell(tr, label("scenario", c.scenario), "Сценарий");
    cell(tr, c.bot_said ? "«" + c.bot_said + "»" : "приветствие", "Бот сейчас");
    if (config.mayOpenCalls) {
      const a = document.createElement("a");
      a.href = "/calls/" + c.id;
      a.textContent = "Карточка";
      cell(tr, a, "");
    } else cell(tr, "", "");
    return tr;
  }
  function callbackRow(c) {
    const tr = document.createElement("tr");
    tr.dataset.callback = c.id;
    cell(tr, countdown(c.due_at), "Осталось");
    cell(tr, c.phone, "Телефон");
    cell(tr, label("callback_reason", c.reason), "Причина");
    cell(tr, label("callback_status", c.status), "Статус");
    cell(tr, String(c.attempts), "Попыток");
    return tr;
  }
  function voiceRow(m) {
    const tr = document.createElement("tr");
    tr.dataset.voiceMessage = m.id;
    cell(tr, countdown(m.review_due_at), "Осталось");
    cell(tr, m.phone, "Телефон");
    cell(tr, time(m.created_at) + (m.listened_by ? " · прослушал " + m.listened_by.replace(/^web:/, "") : ""), "Получено");
    cell(tr, m.transcript || "—", "Расшифровка");
    return tr;
  }
  function system(name, text, ok) {
    const el = document.querySelector('[data-system="' + name + '"]');
    el.querySelector("b").textContent = text;
    el.className = "system " + (ok === null ? "unknown" : ok ? "ok" : "bad");
  }
  function render(data) {
    VBCountdown.setServerNow(data.now);
    fill("live-calls", data.calls, callRow);
    fill("live-callbacks", data.callbacks, callbackRow);
    fill("live-voice", data.voice_messages, voiceRow);
    const t = data.totals;
    document.getElementById("total-calls").textContent = t.calls;
    document.getElementById("total-calls-word").textContent = plural(t.calls, "разговор", "разговора", "разговоров") + " сейчас";
    document.getElementById("total-callbacks").textContent = t.callbacks;
    document.getElementById("total-voice").textContent = t.voice_messages;
    document.getElementById("total-overflow").textContent = t.overflow;
    document.getElementById("kpi-overflow").classList.toggle("bad", t.overflow > 0);
    const s = data.systems;
    system("ami", s.ami.known ? (s.ami.ok ? "на связи" : "нет связи") : "не в этом процессе", s.ami.known ? s.ami.ok : null);
    system("asr", s.asr.known ? (s.asr.ok ? "работает" : "не загружено") : "не в этом процессе", s.asr.known ? s.asr.ok : null);
    system("lines", s.lines.known ? s.lines.busy + " из " + s.lines.limit + (s.lines.full ? " — перегрузка" : "") : "нет данных",
           s.lines.known ? !s.lines.full : null);
    tick();
  }
  function beep() {
    if (!sound) return;
    try {
      audio = audio || new AudioContext();
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.35);
    } catch (e) { /* no audio device: the red banner still shows */ }
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-since]").forEach((el) => {
      el.textContent = VBCountdown.span((now - Date.parse(el.dataset.since)) / 1000 + 0);
    });
    VBCountdown.tick();
    const urgent = Array.from(document.querySelectorAll(".live-grid .countdown.near, .live-grid .countdown.late"));
    const banner = document.getElementById("alert-banner");
    banner.hidden = urgent.length === 0;
    document.body.classList.toggle("alerting", urgent.length > 0);
    if (urgent.length) {
      document.getElementById("alert-text").textContent = urgent.length + " " + plural(urgent.length, "срок", "срока", "сроков") + " меньше " + Math.round(config.near / 60) + " мин или уже просрочено";
      const fresh = urgent.map((el) => el.closest("tr")).filter((tr) => tr && !alerted.has(tr.dataset.callback || "v" + tr.dataset.voiceMessage));
      if (fresh.length) {
        fresh.forEach((tr) => alerted.add(tr.dataset.callback || "v" + tr.dataset.voiceMessage));
        beep();
      }
    }
  }
  document.getElementById("sound-toggle").addEventListener("click", (event) => {
    sound = !sound;
    event.target.setAttribute("aria-pressed", String(sound));
    event.target.textContent = sound ? "Звук включён" : "Звук выключен";
    if (sound) { alerted = new Set(); beep(); }
  });
  function connect() {
    const source = new EventSource("/live/stream");
    source.addEventListener("open", () => { state.textContent = "● на связи"; state.className = "live-state ok"; });
    source.addEventListener("snapshot", (event) => render(JSON.parse(event.data)));
    source.addEventListener("logout", () => { source.close(); location.href = "/login?next=/live"; });
    source.addEventListener("error", () => { state.textContent = "● нет связи, переподключаемся…"; state.className = "live-state bad"; });
  }
  render(JSON.parse(document.getElementById("live-initial").textContent));
  setInterval(tick, 1000);
  connect();
})();
