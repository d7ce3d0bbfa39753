// The indicator builder's form: fields fitting the ledger and the aggregate, condition rows whose operators fit the
// field's type and whose value input is the field's own (its choices, a date, 是/否, a number), and the live
// preview (the unsaved definition posted to the preview endpoint as one types). The server validates everything.
(function () {
  "use strict";
  var form = document.getElementById("builder-form");
  var data = document.getElementById("builder-catalogue");
  if (!form || !data) return;
  var cat = JSON.parse(data.textContent);
  var ledger = form.elements.ledger;
  var aggregate = form.elements.aggregate;
  var field = form.elements.field;
  var NUMERIC = ["integer", "decimal", "money"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function option(value, label, selected) {
    var o = el("option", { value: value }, label);
    if (selected) o.selected = true;
    return o;
  }
  function fields() {
    var l = cat.ledgers[ledger.value];
    return l ? l.fields : [];
  }
  function spec(code) {
    return fields().filter(function (f) { return f.code === code; })[0];
  }
  function fillFields(select, list, selected, blank) {
    select.innerHTML = "";
    select.appendChild(option("", blank, false));
    list.forEach(function (f) { select.appendChild(option(f.code, f.label, f.code === selected)); });
    if (selected && !list.some(function (f) { return f.code === selected; })) {
      select.appendChild(option(selected, selected + "（不适用）", true));
    }
  }
  function show(selector, on) {
    form.querySelectorAll(selector).forEach(function (n) { n.hidden = !on; });
  }

  // --- the aggregate's field, and what shows for which aggregate ----------------------------------------------
  function refreshAggregate() {
    var types = cat.aggregates[aggregate.value];
    var row = document.getElementById("field-row");
    row.hidden = types === null;
    if (types !== null) {
      var current = field.value || field.getAttribute("data-selected");
      fillFields(field, fields().filter(function (f) { return !types.length || types.indexOf(f.type) >= 0; }), current, "请选择字段");
    }
    show(".share-only", aggregate.value === "share");
    show(".list-only", aggregate.value === "list");
    show(".age-only", aggregate.value === "avg_age" || aggregate.value === "share");
  }
  function refreshStates() {
    var box = document.getElementById("status-box");
    var chosen = Array.prototype.map.call(box.querySelectorAll("input:checked"), function (i) { return i.value; });
    if (!box.getAttribute("data-done")) chosen = JSON.parse(box.getAttribute("data-selected") || "[]");
    box.setAttribute("data-done", "1");
    var states = (cat.ledgers[ledger.value] || {}).states || [];
    box.innerHTML = "";
    states.forEach(function (s) {
      var label = el("label");
      var input = el("input", { type: "checkbox", name: "status", value: s });
      input.checked = chosen.indexOf(s) >= 0;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + s));
      box.appendChild(label);
    });
    document.getElementById("status-row").hidden = !states.length;
  }

  // --- condition rows -----------------------------------------------------------------------------------------
  function currentValues(row) {
    var out = [];
    row.querySelectorAll(".cond-value input, .cond-value select").forEach(function (i) {
      if (i.multiple) {
        Array.prototype.forEach.call(i.selectedOptions, function (o) { out.push(o.value); });
      } else if (i.value !== "") {
        out.push(i.value);
      }
    });
    return out;
  }
  function valueInput(name, type, value) {
    var input;
    if (type === "date") input = el("input", { type: "date", name: name });
    else if (NUMERIC.indexOf(type) >= 0) input = el("input", { type: "number", step: "any", name: name });
    else input = el("input", { type: "text", name: name, maxlength: "200" });
    if (value !== undefined && value !== null) input.value = String(value);
    input.setAttribute("aria-label", "值");
    return input;
  }
  function buildValue(row, values) {
    var box = row.querySelector(".cond-value");
    var name = box.getAttribute("data-name");
    var f = spec(row.querySelector(".cond-field").value);
    var op = row.querySelector(".cond-op").value;
    box.innerHTML = "";
    if (!f || op === "empty" || op === "not_empty") return;
    var many = op === "in" || op === "not_in";
    if (op === "age<=" || op === "age>=") {
      var age = el("input", { type: "number", min: "0", max: "150", step: "1", name: name, "aria-label": "周岁" });
      if (values.length) age.value = values[0];
      box.appendChild(age);
      box.appendChild(el("span", { "class": "muted" }, "周岁"));
    } else if (f.type === "bool") {
      var yes = el("select", { name: name, "aria-label": "值" });
      yes.appendChild(option("true", "是", String(values[0]) === "true"));
      yes.appendChild(option("false", "否", String(values[0]) === "false"));
      box.appendChild(yes);
    } else if ((f.type === "choice" || f.type === "multichoice") && f.choices.length) {
      var pick = el("select", { name: name, "aria-label": "值" });
      if (many) pick.multiple = true;
      f.choices.forEach(function (c) { pick.appendChild(option(c, c, values.map(String).indexOf(c) >= 0)); });
      box.appendChild(pick);
    } else if (op === "between") {
      box.appendChild(valueInput(name, f.type, values[0]));
      box.appendChild(el("span", {}, "至"));
      box.appendChild(valueInput(name, f.type, values[1]));
    } else if (many) {
      var list = valueInput(name, "text", values.join("，"));
      list.setAttribute("placeholder", "多个值用逗号分隔");
      box.appendChild(list);
    } else {
      box.appendChild(valueInput(name, f.type, values[0]));
    }
  }
  function fillOps(row, selected) {
    var f = spec(row.querySelector(".cond-field").value);
    var select = row.querySelector(".cond-op");
    var ops = f ? cat.ops[f.type] || [] : [];
    select.innerHTML = "";
    ops.forEach(function (op) { select.appendChild(option(op, cat.op_labels[op], op === selected)); });
  }
  function setupRow(row, first) {
    var fieldSelect = row.querySelector(".cond-field");
    var opSelect = row.querySelector(".cond-op");
    var values = currentValues(row);
    if (first) {
      var raw = row.querySelector(".cond-value").getAttribute("data-value");
      if (raw) {
        try {
          var parsed = JSON.parse(raw);
          values = Array.isArray(parsed) ? parsed : [parsed];
        } catch (e) { /* keep the text input's value */ }
      }
    }
    var selectedField = fieldSelect.value || fieldSelect.getAttribute("data-selected");
    var selectedOp = opSelect.value || opSelect.getAttribute("data-selected");
    fillFields(fieldSelect, fields(), selectedField, "选择字段");
    fillOps(row, selectedOp);
    buildValue(row, values);
  }
  function renumber(container) {
    var prefix = container.getAttribute("data-prefix");
    container.querySelectorAll(".cond-row").forEach(function (row, i) {
      row.querySelector(".cond-field").name = prefix + i + "-field";
      row.querySelector(".cond-op").name = prefix + i + "-op";
      var box = row.querySelector(".cond-value");
      box.setAttribute("data-name", prefix + i + "-value");
      box.querySelectorAll("input, select").forEach(function (n) { n.name = prefix + i + "-value"; });
    });
    var add = container.parentNode.querySelector(".cond-add");
    add.disabled = container.querySelectorAll(".cond-row").length >= Number(container.getAttribute("data-max"));
  }
  form.addEventListener("change", function (event) {
    var t = event.target;
    var row = t.closest ? t.closest(".cond-row") : null;
    if (row && t.classList.contains("cond-field")) {
      fillOps(row, "=");
      buildValue(row, []);
    } else if (row && t.classList.contains("cond-op")) {
      buildValue(row, currentValues(row));
    } else if (t === ledger) {
      form.querySelectorAll(".cond-row").forEach(function (r) { setupRow(r, false); });
      refreshStates();
      refreshAggregate();
    } else if (t === aggregate) {
      refreshAggregate();
    } else if (t.name === "kind") {
      show(".kind-formula", t.value === "formula");
      show(".kind-aggregate", t.value !== "formula");
    }
  });
  form.addEventListener("click", function (event) {
    var t = event.target;
    if (t.classList.contains("cond-remove")) {
      var container = t.closest(".cond-rows");
      t.closest(".cond-row").remove();
      renumber(container);
      schedule();
    } else if (t.classList.contains("cond-add")) {
      var rows = t.parentNode.querySelector(".cond-rows");
      var row = document.getElementById("cond-template").content.firstElementChild.cloneNode(true);
      rows.appendChild(row);
      renumber(rows);
      setupRow(row, false);
    }
  });

  // --- live preview -------------------------------------------------------------------------------------------
  var preview = document.getElementById("preview");
  var timer = null;
  var asked = 0;
  function refreshPreview() {
    var mine = ++asked;
    fetch(form.getAttribute("data-preview"), { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { if (mine === asked) preview.innerHTML = html; })
      .catch(function () { preview.textContent = "预览暂时无法显示，请稍后再试。"; });
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 400);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  // The org and period to preview for sit beside the preview, outside the form (form="builder-form").
  document.querySelectorAll(".preview-choice").forEach(function (box) {
    box.addEventListener("input", schedule);
    box.addEventListener("change", schedule);
  });

  form.querySelectorAll(".cond-rows").forEach(function (c) {
    c.querySelectorAll(".cond-row").forEach(function (r) { setupRow(r, true); });
    renumber(c);
  });
  refreshStates();
  refreshAggregate();
  refreshPreview();
})();
