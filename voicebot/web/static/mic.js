// Microphone mode: mic → AudioWorklet → 16 kHz int16 → WebSocket /ws/voice/{scenario}; bot PCM → WebAudio.
"use strict";
(function () {
  const RATE = 16000;
  const $ = (id) => document.getElementById(id);
  const startButton = $("mic-start"), stopButton = $("mic-stop"), status = $("mic-status"), log = $("mic-log");
  let socket = null, context = null, stream = null, node = null, playAt = 0;

  function add(kind, text) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }
  function downsample(samples, fromRate) {
    // Averaging over each output sample's span is a cheap low-pass against aliasing.
    const ratio = fromRate / RATE, length = Math.floor(samples.length / ratio), out = new Int16Array(length);
    for (let i = 0; i < length; i++) {
      const first = Math.floor(i * ratio), last = Math.min(samples.length, Math.floor((i + 1) * ratio));
      let sum = 0;
      for (let j = first; j < last; j++) sum += samples[j];
      const value = Math.max(-1, Math.min(1, sum / Math.max(1, last - first)));
      out[i] = value < 0 ? value * 0x8000 : value * 0x7fff;
    }
    return out;
  }
  function play(buffer) {
    const pcm = new Int16Array(buffer);
    if (!pcm.length) return;
    const audio = context.createBuffer(1, pcm.length, RATE);
    const channel = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 0x8000;
    const source = context.createBufferSource();
    source.buffer = audio;
    source.connect(context.destination);
    playAt = Math.max(playAt, context.currentTime);
    source.start(playAt);
    playAt += audio.duration;
  }
  function cleanup(message) {
    if (node) { node.port.onmessage = null; node.disconnect(); node = null; }
    if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; }
    if (context) { context.close().catch(() => {}); context = null; }
    socket = null;
    status.textContent = message;
    startButton.disabled = false;
    stopButton.disabled = true;
  }
  async function start() {
    if (!navigator.mediaDevices || !window.AudioWorkletNode) {
      status.textContent = "Браузер не даёт доступ к микрофону (нужен HTTPS или localhost и современный браузер).";
      return;
    }
    startButton.disabled = true;
    log.innerHTML = "";
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
      context = new AudioContext();
      await context.audioWorklet.addModule("/static/mic-worklet.js");
    } catch (error) {
      cleanup("Микрофон недоступен: " + error.message);
      return;
    }
    const scenario = $("scenario").value;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/voice/" + encodeURIComponent(scenario));
    socket.binaryType = "arraybuffer";
    status.textContent = "Соединение…";
    socket.onopen = () => {
      const hello = { sample_rate: RATE, vars: {} };
      const phone = $("phone").value.trim();
      if (phone) hello.phone = phone;
      if ($("direction").value) hello.direction = $("direction").value;
      socket.send(JSON.stringify(hello));
      const input = context.createMediaStreamSource(stream);
      node = new AudioWorkletNode(context, "mic-capture");
      node.port.onmessage = (event) => {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(downsample(event.data, context.sampleRate).buffer);
      };
      input.connect(node);
      status.textContent = "Говорите — бот слушает.";
      stopButton.disabled = false;
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") { play(event.data); return; }
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "bot") add("bot", message.text);
      else if (message.type === "caller") add("caller", message.text);
      else if (message.type === "end") add("system", "Разговор окончен. Исход: " + (message.outcome || "—"));
      else if (message.type === "error") add("system", "Ошибка: " + message.message);
    };
    socket.onerror = () => { status.textContent = "Ошибка соединения с голосовым каналом."; };
    socket.onclose = (event) => {
      const reason = event.code === 1013 ? "голосовой канал сейчас не запущен" : event.code === 1008 ? "сервер отклонил запрос" : "соединение закрыто";
      cleanup("Отключено: " + reason + ".");
    };
  }
  function stop() {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "hangup" }));
    stopButton.disabled = true;
  }
  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
})();
