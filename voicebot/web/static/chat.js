// The text chat of "Проверить бота": one simulation per conversation, one request per caller line.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const log = $("chat-log"), input = $("chat-text"), send = $("chat-send");
  const start = $("chat-start"), stop = $("chat-stop"), result = $("chat-result");
  const labels = document.getElementById("outcome-labels");
  const OUTCOMES = labels ? JSON.parse(labels.textContent) : {};
  const intentLabels = document.getElementById("intent-labels");
  const INTENTS = intentLabels ? JSON.parse(intentLabels.textContent) : {};
  let chatId = null;

  function add(kind, text, meta) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    if (meta) {
      const small = document.createElement("span");
      small.className = "meta";
      small.textContent = meta;
      item.appendChild(small);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }
  function shown(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value !== "object") return String(value);
    return Object.entries(value).map(([k, v]) => k + ": " + shown(v)).join(", ");
  }
  function understood(turn) {
    if (!turn.understood) return "";
    const intent = turn.understood.intent || {};
    // the intent by its Russian name and the confidence in per cent, as on a call's page
    const code = typeof intent === "object" ? intent.name : intent;
    const name = code ? INTENTS[code] || code : "—";
    const sure = typeof intent === "object" && intent.confidence != null
      ? " (уверенность " + Math.round(100 * intent.confidence) + " %)" : "";
    const entities = (turn.understood.entities || []).map((e) => e.entity + " = " + shown(e.value)).join("; ");
    return "распознано: " + name + sure + (entities ? " · " + entities : "");
  }
  function busy(flag) {
    input.disabled = send.disabled = flag || !chatId;
    stop.disabled = !chatId;
    start.disabled = flag;
  }
  function showTurn(turn, callerItem) {
    if (callerItem && turn.understood) {
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = understood(turn);
      callerItem.appendChild(meta);
    }
    if (turn.bot) add("bot", turn.bot, turn.step ? "шаг: " + turn.step : "");
  }
  function finish(final) {
    chatId = null;
    busy(false);
    const counts = Object.entries(final.records || {}).filter(([, rows]) => rows.length)
      .map(([name, rows]) => name + ": " + rows.length).join(", ");
    result.hidden = false;
    result.innerHTML = "";
    const line = document.createElement("p");
    line.id = "chat-outcome";
    line.dataset.outcome = final.outcome || "";
    const outcome = final.outcome ? (OUTCOMES[final.outcome] || final.outcome) : "—";
    line.textContent = "Разговор окончен. Исход: " + outcome + (counts ? ". Записано — " + counts : "");
    result.appendChild(line);
    if (result.dataset.callsAllowed === "1") {
      const link = document.createElement("a");
      link.href = "/calls/" + final.call_id;
      link.textContent = "Открыть звонок";
      result.appendChild(link);
    }
    add("system", "— конец разговора —");
  }
  start.addEventListener("click", async () => {
    log.innerHTML = "";
    result.hidden = true;
    busy(true);
    const body = { scenario: $("scenario").value, phone: $("phone").value.trim(),
                   now: $("now").value || null, direction: $("direction").value || null };
    try {
      const data = await VB.request("POST", "/try/chats", body);
      chatId = data.id;
      showTurn(data.turn);
      if (data.final) finish(data.final); else { busy(false); input.focus(); }
    } catch (error) {
      add("system", "Не удалось начать: " + error.message);
      chatId = null;
      busy(false);
    }
  });
  async function say(text) {
    const callerItem = text === "<hangup>" ? add("system", "вы положили трубку") : add("caller", text);
    busy(true);
    try {
      const data = await VB.request("POST", "/try/chats/" + encodeURIComponent(chatId), { text });
      showTurn(data.turn, callerItem);
      if (data.final) finish(data.final); else { busy(false); input.focus(); }
    } catch (error) {
      add("system", "Ошибка: " + error.message);
      busy(false);
    }
  }
  // the settings form only feeds the buttons; Enter in it must not reload the page
  $("try-form").addEventListener("submit", (event) => event.preventDefault());
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!chatId || !text) return;
    input.value = "";
    say(text);
  });
  stop.addEventListener("click", () => { if (chatId) say("<hangup>"); });
})();
