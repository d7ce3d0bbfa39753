// The report form offers only the orgs the chosen template is for (its org kinds; none named: every org).
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var template = form.querySelector("select[name=template]");
  var org = form.querySelector("select[name=org]");
  function kinds(option) {
    return (option.getAttribute("data-kinds") || "").split(" ").filter(Boolean);
  }
  function fit() {
    var wanted = kinds(template.options[template.selectedIndex]);
    var firstFitting = null;
    Array.prototype.forEach.call(org.options, function (option) {
      var ok = !wanted.length || kinds(option).some(function (k) { return wanted.indexOf(k) >= 0; });
      option.hidden = !ok;
      option.disabled = !ok;
      if (ok && !firstFitting) firstFitting = option;
    });
    if (org.selectedOptions.length && org.selectedOptions[0].disabled && firstFitting) firstFitting.selected = true;
  }
  template.addEventListener("change", fit);
  fit();
})();
