// The first import's progress bar: read the counts every second, reload when the import is done.
// Without JavaScript the page refreshes itself (a <noscript> meta refresh) and shows the same.
(function () {
  "use strict";
  var box = document.getElementById("import");
  if (!box || !box.dataset.running) { return; }
  var url = box.dataset.progressUrl;
  function show(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = String(value); }
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (progress) {
        if (!progress) { window.setTimeout(tick, 2000); return; }
        show("fetched", progress.fetched);
        show("placed", progress.placed);
        if (progress.finished) { window.location.reload(); return; }
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 2000); });
  }
  window.setTimeout(tick, 500);
}());
