/* The teacher's tablet at the door, with or without the school's Wi-Fi.

On the day's sessions list: registers the service worker (attendance/sw.js) and keeps a copy of
each of the day's session pages, so they open offline; copies of other days are dropped.

On a session page: every roll call, incident, handoff and service record goes first into a queue
in IndexedDB, with its client_id and the time it happened (occurred_at), and is then sent to the
API. Sending happens at once, when the network comes back, when the page loads, every 15 seconds
while something waits, and on the "send now" button (not through Background Sync alone, which
some browsers lack). The server answers a replayed client_id with its first answer and writes
nothing, so a write sent twice (a reply lost with the network) lands once. What was sent stays
in the queue for the day, marked sent, so a page reopened from the tablet's copy still shows who
has gone home. A code typed at the door is checked against the digests the page carries; the
server checks it again when the write arrives, and records a refusal either way. */
(function () {
  "use strict";

  var DB_NAME = "kehou-tablet";
  var STORE = "writes";
  var PAGES = "kehou-pages";
  var RETRY_MS = 15000;
  var dataNode = document.getElementById("offline-data");
  var dayNode = document.querySelector("[data-offline-day]");
  if (!dataNode && !dayNode) { return; }
  var swUrl = (dataNode ? document.querySelector("[data-sw]") : dayNode).getAttribute("data-sw");

  if ("serviceWorker" in navigator && swUrl) {
    navigator.serviceWorker.register(swUrl).catch(function () { /* pages still work online */ });
  }

  function keepPages(urls) {
    if (!("caches" in window)) { return Promise.resolve(); }
    return caches.open(PAGES).then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.map(function (r) {
          return urls.indexOf(r.url) < 0 ? cache.delete(r) : null;
        }));
      }).then(function () {
        return Promise.all(urls.map(function (url) {
          return fetch(url, {credentials: "same-origin"}).then(function (response) {
            if (response.ok && !response.redirected) { return cache.put(url, response); }
          }).catch(function () { return null; });
        }));
      });
    });
  }

  if (dayNode) {
    var links = Array.prototype.map.call(document.querySelectorAll("a[data-offline]"),
      function (a) { return a.href; });
    links.push(location.href);
    keepPages(links);
    return;
  }

  // The service worker keeps the pages it serves; the first page, opened before it took
  // control, is kept here.
  if ("caches" in window && !(navigator.serviceWorker && navigator.serviceWorker.controller)) {
    caches.open(PAGES).then(function (cache) { return cache.add(location.href); })
      .catch(function () { return null; });
  }

  var data = JSON.parse(dataNode.textContent);
  var text = data.text;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var bar = document.getElementById("sync");
  var countNode = document.getElementById("sync-count");
  var stateNode = document.getElementById("sync-state");
  var problems = document.getElementById("sync-problems");
  var sending = false;
  var reachable = navigator.onLine;
  var signedOut = false;

  var dbReady = window.idb.openDB(DB_NAME, 1, {
    upgrade: function (db) {
      db.createObjectStore(STORE, {keyPath: "client_id"}).createIndex("session", "session");
    }
  });

  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  // The school's clock, whatever zone the tablet was set to.
  function hhmm(iso) {
    return new Date(iso).toLocaleTimeString("en-GB", {timeZone: data.tz, hour: "2-digit",
      minute: "2-digit", hour12: false});
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }

  function sha256(value) {
    if (!(crypto.subtle && window.TextEncoder)) { return Promise.resolve(null); }
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (x) {
        return (x + 0x100).toString(16).slice(1);
      }).join("");
    });
  }

  // Whether a typed code is one of the child's codes today: true, false, or null when this
  // browser cannot tell (no WebCrypto outside a secure context).
  function codeMatches(student, code) {
    var digests = data.codes[String(student)] || [];
    return sha256(data.salt + ":" + student + ":" + code.replace(/\s/g, "")).then(function (d) {
      return d === null ? null : digests.indexOf(d) >= 0;
    });
  }

  function allItems() {
    return dbReady.then(function (db) {
      return db.getAllFromIndex(STORE, "session", data.session);
    }).then(function (items) {
      return items.sort(function (a, b) { return a.created - b.created; });
    });
  }

  // The writes still waiting on this tablet, every session's, oldest first.
  function waitingEverywhere() {
    return dbReady.then(function (db) { return db.getAll(STORE); }).then(function (items) {
      return items.filter(function (i) { return i.state === "waiting"; })
        .sort(function (a, b) { return a.created - b.created; });
    });
  }

  function save(item) {
    return dbReady.then(function (db) { return db.put(STORE, item); });
  }

  // ---- What the page shows of each queued or sent write ----------------------------------
  function childRow(student) { return document.getElementById("child-" + student); }

  function setTag(parent, className, label) {
    var tag = parent.querySelector(".sync-tag");
    if (!tag) {
      tag = document.createElement("span");
      parent.appendChild(tag);
    }
    tag.className = "tag sync-tag " + className;
    tag.textContent = label;
  }

  function showHandoff(item) {
    var row = childRow(item.body.student);
    // A page drawn after the handoff reached the server shows it already.
    if (!row || row.hasAttribute("data-handed")) { return; }
    var form = row.querySelector("form");
    var head = row.querySelector("div");
    var error = row.querySelector(".handoff-error");
    if (error) { error.remove(); }
    if (item.state === "refused" || (item.state === "waiting" && item.predicted)) {
      if (form) { form.hidden = false; form.querySelector("[name=pickup_code]").value = ""; }
      var p = document.createElement("p");
      p.className = "msg msg-error handoff-error";
      p.setAttribute("role", "alert");
      p.textContent = item.state === "refused" ? (item.reply.detail || text.refused)
        : text["code_" + item.predicted];
      row.insertBefore(p, form || null);
      var stale = head.querySelector(".sync-tag");
      if (stale && item.state === "refused") { stale.remove(); }
      return;
    }
    if (form) { form.hidden = true; }
    var who = item.state === "sent" ? (item.reply.person_name || item.label) : item.label;
    var label = fill(text.handed, {who: who, at: hhmm(item.occurred_at)});
    setTag(head, item.state === "sent" ? "tag-ok" : "tag-warn",
      item.state === "sent" ? label : label + " · " + text.waiting_one);
    row.setAttribute("data-released", "1");
  }

  function showRoll(item) {
    var head = document.querySelector("#roll h2");
    if (item.state === "sent" && head.querySelector(".tag-ok:not(.sync-tag)")) {
      // The page was drawn after a roll call reached the server: its own tag says so.
      var mine = head.querySelector(".sync-tag");
      if (mine) { mine.remove(); }
      return;
    }
    item.body.marks.forEach(function (m) {
      var radio = document.querySelector(
        'input[name="status-' + m.student + '"][value="' + m.status + '"]');
      if (radio) { radio.checked = true; }
      var row = childRow(m.student);
      if (row && !row.getAttribute("data-released")) { row.hidden = m.status === "absent"; }
    });
    setTag(head, item.state === "sent" ? "tag-ok" : "tag-warn",
      item.state === "sent" ? text.roll_sent : text.roll_waiting);
  }

  function showListed(item, listId) {
    var list = document.getElementById(listId);
    if (!list) { return; }
    var line = list.querySelector('[data-item="' + item.client_id + '"]');
    if (!line) {
      line = document.createElement("li");
      line.setAttribute("data-item", item.client_id);
      list.appendChild(line);
    }
    var state = {sent: text.sent, refused: item.reply && item.reply.detail || text.refused,
      waiting: text.waiting_one}[item.state];
    line.className = item.state === "refused" ? "msg msg-error" : "";
    line.textContent = item.label + " · " + hhmm(item.occurred_at) + " · " + state;
  }

  function show(item) {
    if (item.kind === "handoff") { showHandoff(item); }
    else if (item.kind === "roll") { showRoll(item); }
    else if (item.kind === "incident") { showListed(item, "incident-sent"); }
    else if (item.kind === "record") { showListed(item, "record-sent"); }
  }

  function showCounts(items, waiting) {
    // Everything this tablet still holds, whichever session it was written on: signing out
    // (static/js/app.js) keeps the queue while anything waits.
    try { localStorage.setItem("kehou.waiting", String(waiting)); } catch (e) { /* private */ }
    countNode.textContent = fill(text.waiting, {n: waiting});
    bar.hidden = waiting === 0 && reachable && !signedOut;
    bar.classList.toggle("sync-offline", !reachable);
    stateNode.textContent = signedOut ? text.signed_out : (reachable ? "" : text.offline);
    var left = document.querySelectorAll("#handoff li[id^=child-]:not([hidden]):not([data-released])");
    var leftNode = document.getElementById("left-count");
    if (leftNode) { leftNode.textContent = left.length; }
    problems.textContent = "";
    items.filter(function (i) { return i.state === "refused"; }).forEach(function (i) {
      var li = document.createElement("li");
      li.textContent = i.label + " · " + hhmm(i.occurred_at) + " · " +
        (i.reply && i.reply.detail || text.refused);
      problems.appendChild(li);
    });
  }

  function refresh() {
    return Promise.all([allItems(), waitingEverywhere()]).then(function (found) {
      found[0].forEach(show);
      showCounts(found[0], found[1].length);
      return found[0];
    });
  }

  // ---- Sending -----------------------------------------------------------------------------
  function post(item) {
    return fetch(item.url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
        "X-CSRFToken": csrf},
      body: JSON.stringify(item.body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return {status: response.status, body: body};
      });
    });
  }

  // An answer that settles the write (it landed, or the server refused it for good), or null
  // when it should be sent again later (server trouble, or the teacher must sign in again).
  function settled(answer) {
    var s = answer.status;
    if (s >= 200 && s < 300) { return "sent"; }
    if (s === 401 || (s === 403 && !/^(not_authorised|no_walk_home_permission)$/.test(
      answer.body.code || ""))) {
      signedOut = true;
      return null;
    }
    if (s === 429 || s >= 500) { return null; }
    return "refused";
  }

  function sendWaiting() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    // Every session's writes, not only this page's: the noon session's handoffs made offline
    // go as soon as the network returns, even with the afternoon page open.
    return waitingEverywhere().then(function (waiting) {
      return waiting.reduce(function (chain, item) {
        return chain.then(function (go) {
          if (!go) { return false; }
          return post(item).then(function (answer) {
            reachable = true;
            var state = settled(answer);
            if (!state) { return false; }
            signedOut = false;
            item.state = state;
            item.reply = answer.body;
            item.received = new Date().toISOString();
            return save(item).then(function () { return true; });
          }, function () {
            reachable = false;
            return false;
          });
        });
      }, Promise.resolve(true));
    }).then(function () {
      sending = false;
      return refresh();
    }, function () {
      sending = false;
    });
  }

  // ---- Forms -------------------------------------------------------------------------------
  function queue(item) {
    item.session = data.session;
    item.date = data.date;
    item.created = Date.now();
    item.state = "waiting";
    return save(item).then(refresh).then(sendWaiting);
  }

  function rollItem(form, when) {
    var marks = Array.prototype.map.call(form.querySelectorAll("[data-roll]"), function (row) {
      var student = Number(row.getAttribute("data-roll"));
      var checked = row.querySelector("input[type=radio]:checked");
      var status = row.hasAttribute("data-leave") ? "leave" : (checked ? checked.value : "present");
      return {student: student, status: status, client_id: uuid(), occurred_at: when};
    });
    return {kind: "roll", url: data.api + "roll-call/", label: text.roll, body: {marks: marks}};
  }

  function handoffItem(form, submitter, when) {
    var get = function (name) {
      var field = form.querySelector("[name=" + name + "]");
      return field ? field.value.trim() : "";
    };
    var to = submitter && submitter.name === "released_to" ? submitter.value : "guardian";
    var body = {student: Number(get("student")), released_to: to};
    var label = submitter ? submitter.textContent.trim() : "";
    if (to === "guardian") {
      var person = form.querySelector("[name=pickup_person]");
      var code = get("pickup_code");
      if (code) {
        body.pickup_code = code;
        label = text.by_code;
      } else if (person && person.value) {
        body.pickup_person = person.value;
        label = person.options[person.selectedIndex].text.split(" · ")[0];
      } else {
        return null;
      }
    } else if (to === "transfer") {
      body.transfer_to = Number(get("transfer_to"));
    }
    return {kind: "handoff", url: data.api + "handoffs/", label: label, body: body};
  }

  // A form just submitted ignores a second tap for a moment: a double tap at the door is one
  // write, not a second (refused as a conflict) handoff or a second incident with its alert.
  var SETTLE_MS = 1500;

  function onSubmit(event) {
    var form = event.target.closest("form[data-queue]");
    if (!form) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-busy")) { return; }
    form.setAttribute("data-busy", "");
    setTimeout(function () { form.removeAttribute("data-busy"); }, SETTLE_MS);
    var kind = form.getAttribute("data-queue");
    var when = new Date().toISOString();
    var item;
    if (kind === "roll") {
      item = rollItem(form, when);
    } else if (kind === "handoff") {
      item = handoffItem(form, event.submitter, when);
      if (!item) {
        form.removeAttribute("data-busy");  // nothing was sent: the next tap counts
        alert(text.choose_person);
        return;
      }
    } else if (kind === "incident") {
      var student = form.querySelector("[name=student]");
      var kindField = form.querySelector("[name=kind]");
      var note = form.querySelector("[name=note]").value.trim();
      item = {kind: "incident", url: data.api + "incidents/",
        label: student.options[student.selectedIndex].text + " · " +
          kindField.options[kindField.selectedIndex].text,
        body: {student: Number(student.value), kind: kindField.value, note: note}};
      form.querySelector("[name=note]").value = "";
    } else if (kind === "record") {
      item = {kind: "record", url: data.api + "record/", label: text.record,
        body: {content: form.querySelector("[name=content]").value.trim(),
          notes: form.querySelector("[name=notes]").value.trim()}};
    }
    item.client_id = uuid();
    item.occurred_at = when;
    if (kind !== "roll") {
      item.body.client_id = item.client_id;
      item.body.occurred_at = when;
    }
    if (kind === "handoff" && item.body.pickup_code) {
      codeMatches(item.body.student, item.body.pickup_code).then(function (ok) {
        // A wrong code is still sent, so the server records the refusal; the child stays.
        if (ok === false) { item.predicted = "refused"; }
        else if (ok === null && !reachable) { item.predicted = "unchecked"; }
        queue(item);
      });
      return;
    }
    queue(item);
  }

  document.addEventListener("submit", onSubmit);
  document.getElementById("sync-now").addEventListener("click", function () {
    sendWaiting();
  });
  window.addEventListener("online", function () { reachable = true; sendWaiting(); });
  window.addEventListener("offline", function () { reachable = false; refresh(); });
  setInterval(function () {
    waitingEverywhere().then(function (items) { if (items.length) { sendWaiting(); } });
  }, RETRY_MS);

  // Writes of past days were sent (or the day's record shows them refused): drop them.
  dbReady.then(function (db) {
    return db.getAll(STORE).then(function (items) {
      return Promise.all(items.filter(function (i) {
        return i.date < data.date && i.state !== "waiting";
      }).map(function (i) { return db.delete(STORE, i.client_id); }));
    });
  }).then(refresh).then(sendWaiting);
})();
