// The district dashboard's charts (Apache ECharts, vendored): schools ranked by participation
// with the 90% line, and the weekly trend. The data comes from the page (json_script); each
// chart has its table on the page, and ECharts' aria describes it to screen readers and
// patterns the bars so they are told apart without colour.
(function () {
  "use strict";

  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return; }
    el.removeAttribute("aria-hidden");
    var chart = window.echarts.init(el, null, { renderer: "svg", locale: "ZH" });
    option.aria = { enabled: true, decal: { show: true } };
    option.title = { text: el.dataset.title, show: false };
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var node = document.getElementById("chart-data");
    if (!node) { return; }
    var data = JSON.parse(node.textContent);
    var rows = data.ranking;
    var ranking = document.getElementById("ranking-chart");
    if (ranking) { ranking.style.height = Math.max(160, rows.length * 36 + 60) + "px"; }
    draw("ranking-chart", {
      grid: { left: 8, right: 48, top: 16, bottom: 24, containLabel: true },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v.toFixed(2) + "%"; } },
      series: [{
        type: "bar", name: "参与率", data: rows.map(function (r) { return r.rate; }),
        label: { show: true, position: "right", formatter: function (p) { return p.value == null ? "—" : p.value.toFixed(2) + "%"; } },
        markLine: { symbol: "none", label: { formatter: data.target + "%" },
                    lineStyle: { type: "dashed" }, data: [{ xAxis: data.target }] }
      }]
    });
    draw("trend-chart", {
      grid: { left: 8, right: 16, top: 16, bottom: 24, containLabel: true },
      xAxis: { type: "category", data: data.trend.map(function (t) { return t.date.slice(5); }) },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      tooltip: { trigger: "axis" },
      series: [{ type: "line", name: "参与率", data: data.trend.map(function (t) { return t.rate; }) }]
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
