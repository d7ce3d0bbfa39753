// 概览: draw each chart from the JSON beside it (<div data-chart="ID"> + <script type="application/json" id="ID">)
// with the vendored Apache ECharts (static/vendor/echarts, no CDN). The table under each chart holds the same
// figures and links: without scripts, or if ECharts is missing, the chart stays hidden and the table is the page.
// A click on a bar, a point or a category name opens the list or evidence behind it (the table's link).
(function () {
  "use strict";
  if (!window.echarts || !document.querySelectorAll) {
    return;
  }
  var COLORS = ["#b4161b", "#c9a227", "#6a7f94", "#1e6b3a", "#8a4f7d", "#d9822b"];
  var FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif';

  function go(url) {
    if (url) {
      window.location.href = url;
    }
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var horizontal = spec.kind === "hbar" || spec.kind === "stack";
    var hasLines = spec.series.some(function (s) { return s.type === "line"; });
    el.hidden = false;
    if (horizontal) {
      el.style.height = Math.max(150, 30 * spec.categories.length + 80) + "px";
    }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var category = {
      type: "category",
      data: spec.categories,
      inverse: horizontal,
      triggerEvent: true,
      axisLabel: horizontal ? { width: 120, overflow: "truncate" } : { hideOverlap: true },
      axisTick: { alignWithLabel: true }
    };
    var values = [{ type: "value", minInterval: 1 }];
    if (hasLines) {
      values.push({ type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } });
    }
    var series = spec.series.map(function (s) {
      var one = { name: s.name, type: s.type, data: s.data, cursor: "pointer" };
      if (spec.kind === "stack") {
        one.stack = "all";
        one.label = { show: true, position: "inside", formatter: function (p) { return p.value ? p.value : ""; } };
      } else if (horizontal) {
        one.label = { show: true, position: "right" };
      }
      if (s.type === "line") {
        one.yAxisIndex = 1;
        one.connectNulls = false;
        one.tooltip = { valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } };
      }
      if (spec.kind === "bar" && s.type === "bar") {
        one.barMaxWidth = 28;
      }
      return one;
    });
    chart.setOption({
      color: COLORS,
      textStyle: { fontFamily: FONT },
      aria: { enabled: true },
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: series.length > 1 ? { top: 0, type: "scroll" } : { show: false },
      grid: { left: 10, right: horizontal ? 40 : 16, top: series.length > 1 ? 34 : 12, bottom: 10, containLabel: true },
      xAxis: horizontal ? values[0] : category,
      yAxis: horizontal ? category : values,
      series: series
    });
    chart.on("click", function (p) {
      if (p.componentType === "series") {
        var s = spec.series[p.seriesIndex];
        go((s && s.urls[p.dataIndex]) || spec.category_urls[p.dataIndex]);
      } else if (p.componentType === "xAxis" || p.componentType === "yAxis") {
        go(spec.category_urls[spec.categories.indexOf(p.value)]);
      }
    });
    window.addEventListener("resize", function () {
      chart.resize();
    });
    el.setAttribute("data-drawn", "1");
  }

  function start() {
    var charts = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i++) {
      draw(charts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
