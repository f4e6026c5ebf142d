"""The CSS and JavaScript inlined into `vanban report` and `vanban diff --format html`.

Kept as strings so the report is one self-contained file that opens with no network. The
script builds the detail panel with `textContent` only (never `innerHTML` with data), so
document text can never become markup.
"""

CSS = """
:root { --ink:#1d2330; --muted:#6b7280; --line:#d9dee7; --bg:#f7f8fa; --accent:#1f5fbf;
        --assign:#fff1b8; --target:#c9f2d6; --result:#cfe6ff; --deadline:#ffd9cc; --ref:#eadcff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui, "Segoe UI", "Noto Sans", Arial, sans-serif; color:var(--ink); background:var(--bg); }
header.top { position:sticky; top:0; z-index:5; background:#fff; border-bottom:1px solid var(--line); padding:8px 16px; display:flex; gap:16px; align-items:baseline; flex-wrap:wrap; }
header.top h1 { font-size:18px; margin:0; }
header.top nav a { margin-right:12px; color:var(--accent); text-decoration:none; }
main { padding:12px 16px 40px; max-width:1500px; }
section.block { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px 16px; margin:14px 0; }
h2 { font-size:17px; margin:4px 0 10px; } h3 { font-size:15px; margin:12px 0 6px; } h4 { font-size:14px; margin:12px 0 4px; }
table.grid { border-collapse:collapse; width:100%; margin:6px 0; }
table.grid th, table.grid td { border:1px solid var(--line); padding:3px 6px; vertical-align:top; text-align:left; }
table.grid th { background:#f0f3f8; font-weight:600; }
table.matrix td.n { text-align:center; }
table.matrix td.n a { display:block; color:var(--ink); text-decoration:none; }
table.matrix td.lead { background:#ffe08a; } table.matrix td.support { background:#fff4c7; }
table.matrix td.responsible { background:#fff9e0; } table.matrix td.requested { background:#e9f3ff; }
tr.added th, tr.added td { background:#eefbe9; }
.muted { color:var(--muted); font-size:12px; margin-left:6px; }
.warning { color:#8a4b00; }
.badge { display:inline-block; font-size:11px; padding:0 6px; border-radius:8px; margin-right:6px; background:#e5e7eb; }
.badge.shared { background:#c9f2d6; } .badge.reworded { background:#fff1b8; } .badge.unique { background:#f3d1d1; }
.badge.met { background:#c9f2d6; } .badge.missed { background:#f8c9c9; } .badge.not-reported, .badge.not-assessable { background:#e5e7eb; }
details.agency { margin:4px 0; } details.agency > summary { cursor:pointer; font-weight:600; }
.doc-layout { display:grid; grid-template-columns:minmax(0, 1fr) 340px; gap:14px; }
.doctext { white-space:pre-wrap; font-family:"Noto Serif", Georgia, serif; font-size:14px; line-height:1.6; max-height:640px; overflow:auto; border:1px solid var(--line); padding:10px; background:#fffefb; }
mark { background:none; cursor:pointer; border-radius:2px; }
mark.k-assignment { background:var(--assign); } mark.k-target { background:var(--target); }
mark.k-result { background:var(--result); } mark.k-deadline { background:var(--deadline); }
mark.k-reference { background:var(--ref); }
mark.selected { outline:2px solid var(--accent); }
.legend span { display:inline-block; padding:0 6px; margin-right:6px; border-radius:3px; font-size:12px; }
.detail { position:sticky; top:56px; align-self:start; border:1px solid var(--line); border-radius:6px; padding:8px 10px; background:#fbfcfe; min-height:120px; font-size:13px; }
.detail dl { display:grid; grid-template-columns:110px 1fr; gap:2px 8px; margin:6px 0; }
.detail dt { color:var(--muted); } .detail dd { margin:0; }
.detail .item { border-top:1px solid var(--line); padding-top:6px; margin-top:6px; }
.chain { margin:4px 0; } .chain .arrow { color:var(--muted); margin:0 4px; }
svg.graph { background:#fff; border:1px solid var(--line); max-width:100%; height:auto; }
svg.graph .node rect { fill:#eef3fb; stroke:#8aa4cf; } svg.graph .node.document rect { fill:#fff1b8; stroke:#c9a227; }
svg.graph .node text { font-size:11px; fill:#1d2330; }
svg.graph .edge { stroke:#9aa4b2; fill:none; } svg.graph .edge.implements { stroke:#1f5fbf; stroke-width:1.8; }
svg.graph .edge.reports_on { stroke:#2f9e44; stroke-width:1.8; } svg.graph .edge.cites { stroke-dasharray:4 3; }
@media (max-width: 1000px) { .doc-layout { grid-template-columns:1fr; } .detail { position:static; } }
"""

JS = r"""
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

  var stats = {
    items: Object.keys(items).length,
    marks: document.querySelectorAll("mark[data-i]").length,
    matrixCells: document.querySelectorAll("table.matrix td.n").length,
    graphNodes: document.querySelectorAll("svg.graph g.node").length
  };
  document.body.setAttribute("data-ready", "1");
  document.body.setAttribute("data-stats", JSON.stringify(stats));
})();
"""
