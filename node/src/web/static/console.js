// Concord web console: live updates. The only script the console serves
// (Content-Security-Policy: script-src 'self'). It never builds HTML from
// text it receives: every value goes in through textContent.
"use strict";
(function () {
  var live = document.querySelector("[data-live]");
  if (!live || typeof EventSource === "undefined") { return; }
  var status = document.getElementById("live-status");
  var source = new EventSource("/events");
  source.onopen = function () { if (status) { status.textContent = "live"; } };
  source.onerror = function () { if (status) { status.textContent = "reconnecting…"; } };
  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function add(kind, data) {
    var table = document.getElementById("live-" + kind);
    if (!table) { return; }
    var row = document.createElement("tr");
    row.className = "new";
    var first = cell(row, "");
    var link = document.createElement("a");
    link.href = data.href;
    link.textContent = data.id;
    first.appendChild(link);
    (data.cells || []).forEach(function (c) { cell(row, c); });
    var body = table.tBodies[0] || table;
    body.insertBefore(row, body.firstChild);
    var empty = document.getElementById("live-" + kind + "-empty");
    if (empty) { empty.remove(); }
  }
  ["alert", "denial", "consultation"].forEach(function (kind) {
    source.addEventListener(kind, function (e) {
      try { add(kind, JSON.parse(e.data)); } catch (err) { /* a malformed event is dropped */ }
    });
  });
})();
