// The org picker (dangjian/orgs/picker.py): every <select data-org-picker> with more than a handful of orgs gets a
// search box above it. Typing keeps the orgs whose name, short name or code holds the text, with the units above
// them (greyed) so the tree still reads; the list then opens in place. Keys: ↓ moves into the list, Enter takes
// the first match, Esc clears the search. The select stays the form's control: without this file it is a plain
// select indented as a tree, and the search never changes the value by itself.
// A page's own script may disable or hide options that do not fit its other choices (the report form: orgs the
// chosen template is not for). Those are not offered: the search neither lists nor takes them (a disabled unit
// above a match may stay, greyed, as context) and the note counts them apart, with the reason the select's
// data-org-picker-unoffered gives (default "此处不可选"). After changing them the script dispatches
// `orgpicker:update` on the select: the list is filtered again and, when the chosen org is no longer offered, the
// first one offered is taken (with a change event).
(function () {
  "use strict";
  var MIN_OPTIONS = 10; // fewer orgs than this: the plain select is quicker
  var LIST_ROWS = 10;

  function offered(option) {
    return !option.disabled && !option.hidden;
  }

  function text(option) {
    return (option.getAttribute("data-search") || option.textContent || "").toLowerCase();
  }

  function enhance(select) {
    if (select.options.length < MIN_OPTIONS || select.getAttribute("data-org-picker-ready")) return;
    select.setAttribute("data-org-picker-ready", "1");
    var all = Array.prototype.slice.call(select.options).map(function (option) {
      return { option: option, depth: parseInt(option.getAttribute("data-depth") || "0", 10), search: text(option) };
    });
    var wrap = document.createElement("span");
    wrap.className = "org-picker";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "org-picker-filter";
    box.placeholder = "输入单位名称查找";
    box.setAttribute("aria-label", "查找单位（输入名称、简称或代码）");
    box.autocomplete = "off";
    box.maxLength = 40;
    var note = document.createElement("small");
    note.className = "org-picker-note muted";
    note.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(wrap, select);
    wrap.appendChild(box);
    wrap.appendChild(select);
    wrap.appendChild(note);
    var firstMatch = null;

    function show(items, chosen) {
      while (select.options.length) select.remove(0);
      items.forEach(function (item) {
        select.appendChild(item.option);
      });
      select.value = chosen; // the search never changes the choice by itself
    }

    function filter(chosen) {
      if (chosen === undefined) chosen = select.value;
      var typed = box.value.trim().toLowerCase();
      firstMatch = null;
      if (!typed) {
        all.forEach(function (item) { item.option.classList.remove("org-picker-context"); });
        show(all, chosen);
        select.removeAttribute("size");
        note.textContent = "";
        return;
      }
      var keep = [];
      var path = []; // the nearest option above at each depth
      var matches = 0;
      var unoffered = 0; // matches this page does not offer now (disabled or hidden by its script)
      all.forEach(function (item) {
        path.length = item.depth + 1;
        path[item.depth] = item;
        if (!item.option.value) return; // the empty choice ("全部", "请选择") only without a search
        var hit = item.search.indexOf(typed) >= 0;
        if (hit && !offered(item.option)) {
          unoffered += 1;
          hit = false;
        }
        var current = item.option.value === chosen;
        if (hit) {
          matches += 1;
          if (!firstMatch) firstMatch = item.option;
          path.forEach(function (above) {
            if (above && above !== item && above.option.value && keep.indexOf(above) < 0) keep.push(above);
          });
        }
        if ((hit || current) && keep.indexOf(item) < 0) keep.push(item);
        item.option.classList.toggle("org-picker-context", !hit);
      });
      keep.sort(function (a, b) { return all.indexOf(a) - all.indexOf(b); });
      show(keep, chosen);
      select.size = Math.max(2, Math.min(LIST_ROWS, keep.length));
      var shown = box.value.trim();
      var why = select.getAttribute("data-org-picker-unoffered") || "此处不可选";
      var besides = unoffered ? "另有 " + unoffered + " 个" + why : "";
      if (matches) {
        note.textContent = "找到 " + matches + " 个单位" + (besides ? "（" + besides + "）" : "") + "，按 ↓ 进入列表，回车选第一个";
      } else if (unoffered) {
        note.textContent = "名称、简称或代码含“" + shown + "”的 " + unoffered + " 个单位" + why;
      } else {
        note.textContent = "没有名称、简称或代码含“" + shown + "”的单位";
      }
    }

    function take(option) {
      if (!option) return;
      select.value = option.value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function close() {
      box.value = "";
      filter();
    }

    box.addEventListener("input", function () { filter(); });
    select.addEventListener("orgpicker:update", function () {
      var chosen = select.value;
      var current = all.filter(function (item) { return item.option.value === chosen; })[0];
      var first = all.filter(function (item) { return offered(item.option); })[0];
      var replaced = current && first && !offered(current.option) && first !== current;
      filter(replaced ? first.option.value : chosen);
      if (replaced) select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // not the form's submit: Enter here means "take the first match"
        if (firstMatch) {
          take(firstMatch);
          close();
          select.focus();
        }
      } else if (event.key === "ArrowDown" && box.value.trim()) {
        event.preventDefault();
        if (firstMatch && select.value !== firstMatch.value) take(firstMatch);
        select.focus();
      } else if (event.key === "Escape" && box.value) {
        event.preventDefault();
        close();
      }
    });
    select.addEventListener("keydown", function (event) {
      if (!box.value.trim()) return;
      if (event.key === "Enter" || event.key === "Escape") {
        event.preventDefault();
        close(); // the choice stays; the list folds back into a dropdown
        select.focus();
      }
    });
    select.addEventListener("click", function () {
      if (box.value.trim() && select.size > 1) {
        window.setTimeout(close, 0);
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-org-picker]"), enhance);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
