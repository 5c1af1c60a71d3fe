// «Оператору»: each server-sent event is one rendered call card; it replaces that call's card or goes on top.
(() => {
  const list = document.getElementById("call-cards");
  if (!list || !window.EventSource) return;
  const source = new EventSource(list.dataset.stream);
  source.addEventListener("card", (event) => {
    const holder = document.createElement("template");
    holder.innerHTML = event.data.trim();
    const card = holder.content.firstElementChild;
    if (!card) return;
    card.dataset.shownAt = String(Date.now()); // lets a test measure offer -> on screen
    const old = document.getElementById(card.id);
    if (old) old.replaceWith(card);
    else list.prepend(card);
    const empty = document.getElementById("no-cards");
    if (empty) empty.remove();
  });
})();
