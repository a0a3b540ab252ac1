{% load static %}/* The teacher's tablet when the school's Wi-Fi drops.

Controls the attendance pages (this script is served from their path). The pages a teacher
opened today, and the day's session pages the sessions list fetched ahead, are answered from the
network when it answers within a few seconds, and from the copy kept here when it does not; the
assets they load are answered from here and refreshed behind. Writes are not this script's
business: the page queues them in IndexedDB and sends them itself (static/js/tablet.js), so a
browser without Background Sync loses nothing. */
"use strict";

var PAGES = "kehou-pages";
var ASSETS = "kehou-assets";
var ASSET_URLS = [
  "{% static 'css/app.css' %}",
  "{% static 'django_htmx/htmx-2.min.js' %}",
  "{% static 'js/app.js' %}",
  "{% static 'js/tablet.js' %}",
  "{% static 'vendor/idb/idb.umd.js' %}"
];
// How long a page waits for the network before the kept copy answers: at the gate a
// half-working Wi-Fi is worse than none.
var NETWORK_WAIT_MS = 4000;
var SCOPE = new URL(self.registration.scope).pathname;

// Only the teacher's pages are kept: the day's list and its sessions. A guardian's child page
// (full phone numbers, the day's pickup code) or a week's record opened in the same browser
// goes to the network and is never kept.
function tabletPage(path) {
  return path === SCOPE || path.indexOf(SCOPE + "sessions/") === 0;
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(ASSETS).then(function (cache) {
    return cache.addAll(ASSET_URLS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function keepPage(request, response) {
  // A redirect (to the login page, say) or an error is not the page: never keep it.
  if (response.ok && !response.redirected && response.type === "basic") {
    var copy = response.clone();
    caches.open(PAGES).then(function (cache) { return cache.put(request, copy); });
  }
  return response;
}

function fromNetworkThenKept(request) {
  var network = fetch(request).then(function (response) { return keepPage(request, response); });
  var late = new Promise(function (resolve, reject) {
    setTimeout(function () { reject(new Error("slow")); }, NETWORK_WAIT_MS);
  });
  return Promise.race([network, late]).catch(function () {
    // The pages vary by cookie and language; the tablet keeps one copy of each, its own.
    return caches.match(request, {cacheName: PAGES, ignoreVary: true}).then(function (kept) {
      if (kept) { return kept; }
      return network.catch(function () {
        return new Response(
          "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
          "<title>离线</title><p style='font:18px sans-serif;padding:1rem'>" +
          "网络已断开，这个页面没有保存在平板上。请回到今天的课次列表。</p>",
          {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
      });
    });
  });
}

function fromKeptThenRefreshed(request) {
  return caches.open(ASSETS).then(function (cache) {
    return cache.match(request, {ignoreVary: true}).then(function (kept) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
      if (kept) {
        fresh.catch(function () { return null; });
        return kept;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("{% get_static_prefix %}") === 0) {
    event.respondWith(fromKeptThenRefreshed(request));
  } else if (request.mode === "navigate" && tabletPage(url.pathname)) {
    event.respondWith(fromNetworkThenKept(request));
  }
});
