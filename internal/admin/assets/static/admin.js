// hookd admin: the live chart and auto-refresh. Everything else on the
// page is plain HTML forms and works without this script.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 600, H = 150, PAD_L = 40, PAD_R = 8, PAD_T = 8, PAD_B = 18;

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (!(v > 0)) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  // draw plots series (each {values, cls, area}) into svg, sharing one
  // y axis from 0.
  function draw(svg, series, unit) {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var n = series[0].values.length, top = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > top) { top = v; } }); });
    top = niceMax(top);
    var x = function (i) { return PAD_L + (W - PAD_L - PAD_R) * (n <= 1 ? 1 : i / (n - 1)); };
    var y = function (v) { return PAD_T + (H - PAD_T - PAD_B) * (1 - v / top); };
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(el("line", { x1: PAD_L, x2: W - PAD_R, y1: y(top * f), y2: y(top * f), "class": "grid" }));
      svg.appendChild(el("text", { x: PAD_L - 4, y: y(top * f) + 3, "text-anchor": "end", "class": "axis" },
        String(+(top * f).toPrecision(3)) + unit));
    });
    svg.appendChild(el("text", { x: PAD_L, y: H - 4, "class": "axis" }, "−" + Math.round(n / 60) + " min"));
    svg.appendChild(el("text", { x: W - PAD_R, y: H - 4, "text-anchor": "end", "class": "axis" }, "now"));
    series.forEach(function (s) {
      var pts = s.values.map(function (v, i) { return x(i).toFixed(1) + "," + y(v).toFixed(1); });
      if (s.area) {
        svg.appendChild(el("polygon", { points: x(0) + "," + y(0) + " " + pts.join(" ") + " " + x(n - 1) + "," + y(0), "class": s.area }));
      }
      svg.appendChild(el("polyline", { points: pts.join(" "), "class": "line " + s.cls }));
    });
  }

  function startChart(box) {
    var rate = document.getElementById("chart-rate"), latency = document.getElementById("chart-latency");
    var summary = document.getElementById("summary");
    function refresh() {
      fetch(box.getAttribute("data-src"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (d) {
          if (!d.delivered || d.delivered.length === 0) { return; }
          box.hidden = false;
          draw(rate, [{ values: d.delivered, cls: "line-ok", area: "area-ok" }, { values: d.failed, cls: "line-fail" }], "/s");
          draw(latency, [{ values: d.p50_ms, cls: "line-p50" }, { values: d.p99_ms, cls: "line-p99" }], " ms");
          var sum = function (a) { return a.reduce(function (x, y) { return x + y; }, 0); };
          var lastMin = sum(d.delivered.slice(-60));
          if (summary) {
            var failed = sum(d.failed);
            summary.textContent = sum(d.delivered) + " delivered, " + failed + " failed attempt" + (failed === 1 ? "" : "s") + ", " + sum(d.dead) +
              " dead; " + (lastMin / 60).toFixed(1) + " deliveries/s over the last minute; highest p99 latency " +
              Math.max.apply(null, d.p99_ms).toFixed(1) + " ms.";
          }
        })
        .catch(function () { /* keep the last drawing; the next round tries again */ });
    }
    refresh();
    setInterval(refresh, 3000);
  }

  // Auto-refresh reloads list pages every 5 s while the box is ticked,
  // unless the operator is typing in a form.
  function startAutoRefresh(tools) {
    var key = "hookd-admin-autorefresh";
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.id = "autorefresh";
    box.checked = sessionStorage.getItem(key) === "1";
    label.appendChild(box);
    label.appendChild(document.createTextNode("Auto-refresh"));
    tools.insertBefore(label, tools.firstChild);
    box.addEventListener("change", function () { sessionStorage.setItem(key, box.checked ? "1" : "0"); });
    setInterval(function () {
      var a = document.activeElement;
      var typing = a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA") && a !== box;
      if (box.checked && !typing) { location.reload(); }
    }, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("chart");
    if (box && window.fetch) { startChart(box); }
    var page = document.body.getAttribute("data-page");
    var tools = document.getElementById("tools");
    if (tools && ["deliveries", "dead", "targets", "plugins"].indexOf(page) >= 0) { startAutoRefresh(tools); }
  });
})();
