// htmx requests carry Django's CSRF token from the page's meta tag.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});

// Signing out of a tablet drops its copies of the day's session pages (children's names, masked
// phones). Writes still waiting to be sent stay, and go when a teacher signs in again; the
// teacher is asked first, since they go only then.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute || !form.hasAttribute("data-logout")) { return; }
  var waiting = 0;
  try { waiting = Number(localStorage.getItem("kehou.waiting") || 0); } catch (e) { /* private */ }
  if (waiting > 0 && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
    return;
  }
  if (window.caches) { caches.delete("kehou-pages"); }
  if (waiting === 0 && window.indexedDB) { indexedDB.deleteDatabase("kehou-tablet"); }
});
