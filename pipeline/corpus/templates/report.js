(function () {
  "use strict";
  var dataEl = document.getElementById("report-items");
  var items = dataEl ? JSON.parse(dataEl.textContent) : {};
  var FIELDS = {
    assignment: [["agency", "agency"], ["role", "role"], ["agency_id", "canonical id"], ["successor", "successor"],
                 ["section", "section"], ["partners", "partners"], ["deadline", "deadline"], ["five_clear", "5 rõ"],
                 ["topics", "topics"], ["task", "task"]],
    target: [["indicator", "indicator"], ["direction", "direction"], ["value", "value"], ["unit", "unit"],
             ["qualifier", "qualifier"], ["period", "period"]],
    result: [["indicator", "indicator"], ["value", "value"], ["unit", "unit"], ["compared_to", "compared to"],
             ["change", "change"]],
    deadline: [["text", "text"], ["date", "date"], ["recurrence", "recurrence"], ["who", "who"], ["what", "what"]],
    reference: [["canonical_id", "canonical id"], ["doc_type", "type"], ["date", "date"], ["issuer", "issuer"],
                ["relation", "relation"], ["resolved_to", "resolved to"], ["title", "title"]]
  };
  var FIVE = {nguoi: "rõ người", viec: "rõ việc", trach_nhiem: "rõ trách nhiệm", thoi_gian: "rõ thời gian",
              ket_qua: "rõ kết quả"};

  function show(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) return value.length ? value.join("; ") : "—";
    if (typeof value === "object") {
      if ("text" in value && "span" in value) {
        var bits = [value.text];
        if (value.date) bits.push(value.date);
        if (value.recurrence) bits.push(value.recurrence);
        return bits.join(" · ");
      }
      return Object.keys(value).map(function (k) {
        var v = value[k];
        var name = FIVE[k] || k;
        return (v === true ? "✓ " : v === false ? "✗ " : "") + name + (typeof v === "boolean" ? "" : ": " + show(v));
      }).join(", ") || "—";
    }
    return String(value);
  }

  function render(panel, ids) {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    ids.forEach(function (id) {
      var item = items[id];
      if (!item) return;
      var box = document.createElement("div");
      box.className = "item";
      var h = document.createElement("b");
      h.textContent = item.kind;
      box.appendChild(h);
      var dl = document.createElement("dl");
      (FIELDS[item.kind] || []).forEach(function (f) {
        var dt = document.createElement("dt");
        dt.textContent = f[1];
        var dd = document.createElement("dd");
        dd.textContent = show(item.data[f[0]]);
        dl.appendChild(dt);
        dl.appendChild(dd);
      });
      box.appendChild(dl);
      panel.appendChild(box);
    });
  }

  var selected = [];
  document.addEventListener("click", function (ev) {
    var mark = ev.target.closest ? ev.target.closest("mark[data-i]") : null;
    if (!mark) return;
    var ids = mark.getAttribute("data-i").split(" ");
    var panel = document.getElementById("detail-" + mark.getAttribute("data-doc"));
    if (panel) render(panel, ids);
    selected.forEach(function (m) { m.classList.remove("selected"); });
    selected = Array.prototype.slice.call(document.querySelectorAll("mark[data-i~='" + ids[0] + "']"));
    selected.forEach(function (m) { m.classList.add("selected"); });
  });

  // Open the item a link points to (#m-<item id>), e.g. from the agency matrix.
  function openHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (id.indexOf("m-") !== 0) return;
    var mark = document.getElementById(id);
    if (mark) mark.click();
  }
  window.addEventListener("hashchange", openHash);
  openHash();

  // What a reader sees, for the browser test: the graph's labels at their drawn size, whether
  // the graph fits its box, and the font family of each part of the page.
  var svg = document.querySelector("svg.graph");
  var label = svg ? svg.querySelector("g.node text") : null;
  var box = svg ? svg.parentNode : null;
  function family(selector) {
    var el = document.querySelector(selector);
    return el ? getComputedStyle(el).fontFamily : null;
  }
  var stats = {
    items: Object.keys(items).length,
    marks: document.querySelectorAll("mark[data-i]").length,
    matrixCells: document.querySelectorAll("table.matrix td.n").length,
    graphNodes: document.querySelectorAll("svg.graph g.node").length,
    graphLabelPx: label ? parseFloat(getComputedStyle(label).fontSize) *
      svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : null,
    graphFits: box ? box.scrollWidth <= box.clientWidth : null,
    fonts: {body: family("body"), text: family(".doctext"), table: family("table.grid td"),
            detail: family(".detail"), graph: family("svg.graph text"), heading: family("h2")}
  };
  document.body.setAttribute("data-ready", "1");
  document.body.setAttribute("data-stats", JSON.stringify(stats));
})();
