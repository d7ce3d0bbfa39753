// The report editor: line numbers beside the textarea, a live preview of the unsaved draft (POSTed to the
// draft endpoint, the answer shown as HTML the server rendered and escaped), and the picker that inserts
// indicators, parameters and filters at the cursor. No inline script: the CSP allows files of the project only.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) return;
  var source = document.getElementById("source");
  var gutter = document.getElementById("gutter");
  var preview = document.getElementById("preview");
  var state = document.getElementById("preview-state");
  var orgSelect = document.getElementById("preview-org");
  var periodInput = document.getElementById("preview-period");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var fileName = form.querySelector("input[name=file]").value;

  // Line numbers beside the text. Report lines are whole paragraphs, so the text wraps (unless 自动换行 is
  // unticked): each number takes the height its line takes, measured on a hidden copy of the textarea.
  var wrapBox = document.getElementById("wrap-lines");
  var mirror = document.createElement("div");
  mirror.className = "line-mirror";
  mirror.setAttribute("aria-hidden", "true");
  source.parentNode.appendChild(mirror);
  function numberLines() {
    var lines = source.value.split("\n");
    var wrapped = !wrapBox || wrapBox.checked;
    source.setAttribute("wrap", wrapped ? "soft" : "off");
    source.classList.toggle("nowrap-text", !wrapped);
    gutter.textContent = "";
    var heights = null;
    if (wrapped) {
      var style = window.getComputedStyle(source);
      mirror.style.width = source.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) + "px";
      mirror.textContent = "";
      lines.forEach(function (line) {
        var div = document.createElement("div");
        div.textContent = line || " ";
        mirror.appendChild(div);
      });
      heights = Array.prototype.map.call(mirror.children, function (div) { return div.offsetHeight; });
    }
    lines.forEach(function (_line, i) {
      var n = document.createElement("div");
      n.textContent = i + 1;
      if (heights) n.style.height = heights[i] + "px";
      gutter.appendChild(n);
    });
    gutter.scrollTop = source.scrollTop;
  }
  if (wrapBox) wrapBox.addEventListener("change", numberLines);
  window.addEventListener("resize", numberLines);
  source.addEventListener("scroll", function () { gutter.scrollTop = source.scrollTop; });

  // Go to a line named by a problem of this file (the textarea is the one place to fix it).
  function goToLine(line) {
    var lines = source.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    source.focus();
    source.setSelectionRange(start, start + (lines[line - 1] || "").length);
    var mark = gutter.children[line - 1];
    source.scrollTop = mark ? Math.max(0, mark.offsetTop - gutter.offsetTop - 60) : 0;
  }

  // A problem or a 待定 of this file (li data-file data-line): a click goes to its line in the textarea.
  function wireJumps(root) {
    root.querySelectorAll("li[data-line]").forEach(function (item) {
      var line = parseInt(item.getAttribute("data-line"), 10);
      var file = item.getAttribute("data-file");
      if (line && fileName.split("/").pop() === file) {
        item.classList.add("jump");
        item.title = "点击跳到该行";
        item.tabIndex = 0;
        item.addEventListener("click", function () { goToLine(line); });
        item.addEventListener("keydown", function (event) {
          if (event.key === "Enter") goToLine(line);
        });
      }
    });
  }

  var timer = null;
  var sequence = 0;
  function refresh() {
    if (!orgSelect || !orgSelect.value) return;
    document.getElementById("save-org").value = orgSelect.value;
    document.getElementById("save-period").value = periodInput.value;
    var mine = ++sequence;
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    body.append("file", fileName);
    body.append("text", source.value);
    body.append("org", orgSelect.value);
    body.append("period", periodInput.value);
    state.textContent = "正在生成预览……";
    fetch(form.getAttribute("data-draft-url"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.text().then(function (html) { return [response.status, html]; }); })
      .then(function (result) {
        if (mine !== sequence) return; // an older answer arriving late
        var scrolled = preview.scrollTop; // keep the place the writer scrolled to (their chapter)
        preview.innerHTML = result[1];
        preview.scrollTop = scrolled;
        state.textContent = result[0] === 200 ? "草稿预览（未保存）" : "草稿有误（未保存）";
        wireJumps(preview);
      })
      .catch(function () { state.textContent = "预览失败，请检查网络连接"; });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 700);
  }
  source.addEventListener("input", function () { numberLines(); later(); });
  if (orgSelect) orgSelect.addEventListener("change", refresh);
  if (periodInput) periodInput.addEventListener("change", refresh);

  // Tab inserts spaces instead of leaving the textarea.
  source.addEventListener("keydown", function (event) {
    if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      insert("  ");
    }
  });

  function insert(text) {
    var start = source.selectionStart, end = source.selectionEnd;
    source.setRangeText(text, start, end, "end");
    source.focus();
    numberLines();
    later();
  }

  // The picker: search by Chinese label, click (or Enter) to insert at the cursor.
  var query = document.getElementById("picker-q");
  var results = document.getElementById("picker-results");
  var pickerTimer = null;
  var cursor = { start: 0, end: 0 };
  source.addEventListener("blur", function () { cursor = { start: source.selectionStart, end: source.selectionEnd }; });
  function search() {
    var url = form.getAttribute("data-picker-url") + "?q=" + encodeURIComponent(query.value);
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        results.textContent = "";
        data.items.forEach(function (item) {
          var li = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          var kind = document.createElement("span");
          kind.className = "tag";
          kind.textContent = item.kind;
          var label = document.createElement("strong");
          label.textContent = item.label;
          var code = document.createElement("code");
          code.textContent = item.insert;
          button.append(kind, " ", label, " ", code);
          if (item.note) {
            var note = document.createElement("span");
            note.className = "muted";
            note.textContent = " " + item.note;
            button.append(note);
          }
          button.addEventListener("click", function () {
            source.setSelectionRange(cursor.start, cursor.end);
            insert(item.insert);
            results.hidden = true;
          });
          li.append(button);
          results.append(li);
        });
        if (!data.items.length) {
          var none = document.createElement("li");
          none.className = "muted";
          none.textContent = "没有找到。可按指标名称、代码或过滤器名称查找。";
          results.append(none);
        }
        results.hidden = false;
      });
  }
  query.addEventListener("input", function () {
    clearTimeout(pickerTimer);
    pickerTimer = setTimeout(search, 250);
  });
  query.addEventListener("focus", search);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") results.hidden = true;
  });

  numberLines();
  document.querySelectorAll(".notice-pending").forEach(wireJumps);
  // opened at a line (a 待定 listed on the report page or in another file's preview)
  var startLine = parseInt(form.getAttribute("data-line") || "", 10);
  if (startLine) goToLine(startLine);
  refresh();
})();
