// Progress of an Excel import: the upload is processed by its own request, this polls the status endpoint.
(function () {
  "use strict";
  var box = document.querySelector(".import-progress");
  if (!box) return;
  var bar = box.querySelector("progress");
  var text = box.querySelector(".js-progress-text");
  function poll() {
    fetch(box.dataset.status, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.total) {
          bar.value = Math.min(100, Math.round((100 * s.done) / s.total));
          text.textContent = "已检查 " + s.done + " / " + s.total + " 行";
        }
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, 700); });
  }
  document.querySelectorAll("form.js-import").forEach(function (form) {
    form.addEventListener("submit", function () {
      box.hidden = false;
      bar.removeAttribute("value");
      setTimeout(poll, 500);
    });
  });
})();
