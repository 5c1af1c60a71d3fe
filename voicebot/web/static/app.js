// Shared helpers of the UI pages: JSON requests that carry the session's CSRF token.
"use strict";
window.VB = {
  csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  },
  async request(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRF-Token": VB.csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (response.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); }
    if (!response.ok) {
      const message = data && data.error ? (data.error.message || data.error.title) : "ошибка " + response.status;
      throw new Error(message);
    }
    return data;
  },
};

// «Назад» links go back in history (no javascript: URLs: the Content Security Policy forbids them).
document.querySelectorAll("a[data-back]").forEach((link) => {
  link.addEventListener("click", (event) => {
    if (history.length > 1) { event.preventDefault(); history.back(); }
  });
});
