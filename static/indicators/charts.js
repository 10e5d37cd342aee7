/* Charts of the indicator center (ECharts, vendored). No inline script: every chart is a
   <div data-chart="line|bar|stacked|hbar|pie|funnel|map" data-source="<json_script id>"
   data-key="<field>">; clicking a point opens the cases it counts (its "link"). The big screen
   (<body data-refresh="url">) reloads its payload every 30 s. */
(function () {
  "use strict";
  var PALETTE = ["#1c64f2", "#f5a524", "#e02424", "#0e9f6e", "#9061f9", "#0694a2", "#ff8a4c"];

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function linkOf(d, params) {
    if (params.data && params.data.link) return params.data.link;
    var s = d.series && d.series[params.seriesIndex];
    return s && s.links ? s.links[params.dataIndex] : null;
  }

  function axisSeries(d, type, stack) {
    return d.series.map(function (s) {
      return { name: s.name, type: type, data: s.data, stack: stack || undefined,
               smooth: type === "line", connectNulls: false, barMaxWidth: 28 };
    });
  }

  function textColor(dark) { return dark ? "#d9e2ec" : "#334e68"; }

  function build(type, d, el) {
    var dark = el.dataset.dark === "1";
    var base = { color: PALETTE, textStyle: { color: textColor(dark) },
                 tooltip: { trigger: type === "pie" || type === "funnel" || type === "map" ? "item" : "axis" } };
    var legend = { top: 0, textStyle: { color: textColor(dark) }, type: "scroll" };
    if (type === "line" || type === "bar" || type === "stacked") {
      return Object.assign(base, {
        legend: legend,
        grid: { left: 8, right: 12, top: 34, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.x, axisLabel: { rotate: d.x.length > 6 ? 35 : 0, color: textColor(dark) } },
        yAxis: { type: "value", axisLabel: { color: textColor(dark) } },
        series: axisSeries(d, type === "line" ? "line" : "bar", type === "stacked" ? "all" : null)
      });
    }
    if (type === "hbar") {
      return Object.assign(base, {
        grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
        yAxis: { type: "category", data: d.x.slice().reverse(), axisLabel: { color: textColor(dark) } },
        xAxis: { type: "value", axisLabel: { color: textColor(dark) }, minInterval: 1 },
        series: d.series.map(function (s) {
          return { name: s.name, type: "bar", data: s.data.slice().reverse(), barMaxWidth: 22,
                   itemStyle: { color: "#ff6b6b" } };
        })
      });
    }
    if (type === "pie") {
      return Object.assign(base, {
        legend: Object.assign(legend, { bottom: 0, top: "auto" }),
        series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], data: d,
                   label: { formatter: "{b}: {c}", color: textColor(dark) } }]
      });
    }
    if (type === "funnel") {
      return Object.assign(base, {
        series: [{ type: "funnel", left: "5%", width: "90%", sort: "none", data: d,
                   label: { position: "inside", formatter: "{b}: {c}", color: "#fff" } }]
      });
    }
    if (type === "map") {
      var metric = el.dataset.metric || "value";
      echarts.registerMap("cityops-grid", d.geo);
      var data = d.data.map(function (p) {
        return { name: p.name, value: p[metric] === null ? null : p[metric], link: p.link };
      });
      var max = Math.max.apply(null, data.map(function (p) { return p.value || 0; }).concat([1]));
      return Object.assign(base, {
        visualMap: { min: 0, max: max, calculable: true, left: 0, bottom: 0,
                     text: [metric === "value" ? "" : "%", ""], textStyle: { color: textColor(dark) },
                     inRange: { color: ["#e0f3ff", "#74b9ff", "#1c64f2", "#f5a524", "#e02424"] } },
        series: [{ type: "map", map: "cityops-grid", roam: true, data: data, nameProperty: "name",
                   label: { show: false }, emphasis: { label: { show: true } } }]
      });
    }
    return null;
  }

  function render(el, all) {
    if (!all) return;
    var d = el.dataset.key ? all[el.dataset.key] : all;
    var option = build(el.dataset.chart, d, el);
    if (!option) return;
    var chart = echarts.getInstanceByDom(el) || echarts.init(el);
    chart.setOption(option, true);
    chart.off("click");
    chart.on("click", function (params) {
      var link = linkOf(d, params);
      if (link) window.location.href = link;
    });
  }

  function renderAll() {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      render(el, readJson(el.dataset.source));
    });
  }

  function mapSwitch() {
    document.querySelectorAll("[data-map-switch]").forEach(function (box) {
      box.addEventListener("click", function (ev) {
        var metric = ev.target.dataset.metric;
        if (!metric) return;
        box.querySelectorAll("button").forEach(function (b) { b.classList.toggle("on", b === ev.target); });
        var map = box.parentElement.querySelector("[data-chart=map]");
        map.dataset.metric = metric;
        render(map, readJson(map.dataset.source));
      });
    });
  }

  function fillScreen(payload) {
    var time = document.querySelector("[data-field=generated]");
    if (time) time.textContent = payload.generated;
    var today = document.querySelector("[data-list=today]");
    if (today) {
      today.replaceChildren.apply(today, payload.today.map(function (n) {
        var a = document.createElement("a");
        a.className = "screen-card"; a.href = n.link;
        var v = document.createElement("span"); v.className = "kpi-value"; v.textContent = n.text;
        var l = document.createElement("span"); l.className = "kpi-name"; l.textContent = n.name;
        a.append(v, l); return a;
      }));
    }
    var recent = document.querySelector("[data-list=recent]");
    if (recent) {
      recent.replaceChildren.apply(recent, payload.recent.map(function (c) {
        var li = document.createElement("li"); var a = document.createElement("a");
        a.href = c.link; a.textContent = [c.time, c.number, c.category, c.area].filter(Boolean).join(" · ");  // an order may have no area
        li.append(a); return li;
      }));
    }
    document.getElementById("screen-data").textContent = JSON.stringify(payload);
    renderAll();
  }

  function refresh(url) {
    setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) { if (p) fillScreen(p); })
        .catch(function () {});
    }, 30000);
  }

  function stageBars() {  // widths from data attributes (no inline styles in the markup)
    document.querySelectorAll(".stage-bar [data-pct]").forEach(function (seg) {
      seg.style.width = seg.dataset.pct + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    stageBars();
    if (typeof echarts === "undefined") return;
    renderAll();
    mapSwitch();
    if (document.body.dataset.refresh) refresh(document.body.dataset.refresh);
    window.addEventListener("resize", function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        var c = echarts.getInstanceByDom(el); if (c) c.resize();
      });
    });
  });
})();
