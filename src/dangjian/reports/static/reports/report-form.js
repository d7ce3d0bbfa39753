// The report form: the org list offers only the orgs the chosen template is for (its org kinds; none named: every
// org) and, when something is typed in 查找组织, only the orgs whose name or code holds it. Choosing an org moves
// the year to that org's last year with data, until the year has been chosen by hand.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var template = form.querySelector("select[name=template]");
  var org = form.querySelector("select[name=org]");
  var year = form.querySelector("select[name=year]");
  var filter = form.querySelector("input.org-filter");
  var note = form.querySelector(".org-filter-note");
  var yearTouched = false;
  function kinds(option) {
    return (option.getAttribute("data-kinds") || "").split(" ").filter(Boolean);
  }
  function fit() {
    var wanted = kinds(template.options[template.selectedIndex]);
    var typed = filter ? filter.value.trim().toLowerCase() : "";
    var firstShown = null;
    var shown = 0;
    Array.prototype.forEach.call(org.options, function (option) {
      var fits = !wanted.length || kinds(option).some(function (k) { return wanted.indexOf(k) >= 0; });
      var found = !typed || (option.getAttribute("data-search") || "").toLowerCase().indexOf(typed) >= 0;
      option.hidden = !(fits && found);
      option.disabled = !fits;
      if (fits && found) {
        shown += 1;
        if (!firstShown) firstShown = option;
      }
    });
    if (note) {
      note.textContent = !typed ? "" : shown ? "找到 " + shown + " 个组织" : "没有名称或代码含“" + filter.value.trim() + "”且适用于所选模板的组织";
    }
    var selected = org.options[org.selectedIndex];
    if ((!selected || selected.hidden) && firstShown) {
      firstShown.selected = true;
      followYear();
    }
  }
  function followYear() {
    var selected = org.options[org.selectedIndex];
    var wanted = selected && selected.getAttribute("data-year");
    if (yearTouched || !wanted || !year) return;
    Array.prototype.forEach.call(year.options, function (option) {
      if (option.value === wanted) option.selected = true;
    });
  }
  template.addEventListener("change", fit);
  org.addEventListener("change", followYear);
  if (year) year.addEventListener("change", function () { yearTouched = true; });
  if (filter) filter.addEventListener("input", fit);
  fit();
})();
