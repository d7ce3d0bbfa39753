// The report form: the org picker (dangjian/orgpicker.js) offers only the orgs the chosen template is for (its org
// kinds; none named: every org). The others are disabled and hidden, except the units above an org that fits,
// which stay greyed so the list still reads as a tree; the picker's search skips them all (`orgpicker:update`).
// Choosing an org moves the year to that org's last year with data, until the year has been chosen by hand.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var template = form.querySelector("select[name=template]");
  var org = form.querySelector("select[name=org]");
  var year = form.querySelector("select[name=year]");
  // every org, read before anything narrows the list (the picker's search takes options out of the select)
  var orgs = Array.prototype.slice.call(org.options);
  org.setAttribute("data-org-picker-unoffered", "不适用于所选报告模板"); // why the picker's search skips some
  var yearTouched = false;
  function kinds(option) {
    return (option.getAttribute("data-kinds") || "").split(" ").filter(Boolean);
  }
  function fit() {
    var wanted = kinds(template.options[template.selectedIndex]);
    var path = []; // the nearest org above at each depth
    var firstFit = null;
    orgs.forEach(function (option) {
      var depth = parseInt(option.getAttribute("data-depth") || "0", 10);
      var fits = !wanted.length || kinds(option).some(function (k) { return wanted.indexOf(k) >= 0; });
      path.length = depth + 1;
      path[depth] = option;
      option.disabled = !fits;
      option.hidden = !fits;
      if (fits) {
        if (!firstFit) firstFit = option;
        path.forEach(function (above) { if (above) above.hidden = false; }); // greyed: the tree still reads
      }
    });
    // the picker filters its list again and takes the first org offered when the chosen one no longer fits
    org.dispatchEvent(new Event("orgpicker:update"));
    var selected = org.options[org.selectedIndex];
    if ((!selected || selected.disabled) && firstFit) { // no picker (a short list): choose here
      firstFit.selected = true;
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
  fit();
})();
