// Clicking a transcript line seeks the recording to that moment and plays it.
"use strict";
(function () {
  const player = document.getElementById("player");
  const transcript = document.getElementById("transcript");
  if (!player || !transcript) return;
  const lines = Array.from(transcript.querySelectorAll(".turn.seekable"));
  function mark(current) {
    lines.forEach((line) => line.classList.toggle("playing", line === current));
  }
  function seek(line) {
    player.currentTime = parseFloat(line.dataset.seconds);
    mark(line);
    player.play().catch(() => {});  // autoplay rules may refuse; the seek still holds
  }
  lines.forEach((line) => {
    line.addEventListener("click", () => seek(line));
    line.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); seek(line); } });
  });
  player.addEventListener("timeupdate", () => {
    let current = null;
    lines.forEach((line) => { if (parseFloat(line.dataset.seconds) <= player.currentTime + 0.05) current = line; });
    mark(current);
  });
})();
