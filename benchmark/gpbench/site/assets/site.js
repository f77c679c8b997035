/* gpbench site: sortable tables and filters. Plain JavaScript, no dependencies. */
(function () {
  "use strict";

  function sortKey(td) {
    if (!td) return { missing: true };
    var raw = td.hasAttribute("data-sort") ? td.getAttribute("data-sort") : null;
    if (raw === null) {
      var text = td.textContent.trim();
      return text === "" || text === "\u2013" ? { missing: true } : { text: text.toLowerCase() };
    }
    var num = Number(raw);
    if (raw !== "" && !isNaN(num)) return { num: num };
    return { text: raw.toLowerCase() };
  }

  function compare(a, b) {
    if (a.missing || b.missing) return (a.missing ? 1 : 0) - (b.missing ? 1 : 0);
    if (a.num !== undefined && b.num !== undefined) return a.num - b.num;
    var x = a.num !== undefined ? String(a.num) : a.text;
    var y = b.num !== undefined ? String(b.num) : b.text;
    return x < y ? -1 : x > y ? 1 : 0;
  }

  function sortTable(table, col, th) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var heads = table.querySelectorAll("thead th");
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, index) {
      return { row: row, key: sortKey(row.cells[col]), index: index };
    });
    keyed.sort(function (p, q) {
      if (p.key.missing || q.key.missing) {
        var m = compare(p.key, q.key);  // missing values last in both directions
        return m !== 0 ? m : p.index - q.index;
      }
      var c = compare(p.key, q.key);
      if (!ascending) c = -c;
      return c !== 0 ? c : p.index - q.index;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
  }

  function applyFilters(tableId) {
    var selects = document.querySelectorAll('select[data-filter-for="' + tableId + '"]');
    var active = [];
    for (var i = 0; i < selects.length; i++) {
      if (selects[i].value !== "") {
        active.push([selects[i].getAttribute("data-filter-key"), selects[i].value]);
      }
    }
    function matches(el, strict) {
      for (var j = 0; j < active.length; j++) {
        var name = "data-" + active[j][0];
        if (!el.hasAttribute(name)) { if (strict) return false; continue; }
        if (el.getAttribute(name) !== active[j][1]) return false;
      }
      return true;
    }
    var table = document.getElementById(tableId);
    var shown = 0, total = 0;
    if (table) {
      var rows = table.tBodies[0].rows;
      for (var r = 0; r < rows.length; r++) {
        var ok = matches(rows[r], true);
        rows[r].hidden = !ok;
        total += 1;
        if (ok) shown += 1;
      }
    }
    var scoped = document.querySelectorAll('[data-filter-scope="' + tableId + '"]');
    for (var s = 0; s < scoped.length; s++) scoped[s].hidden = !matches(scoped[s], false);
    var counts = document.querySelectorAll('[data-count-for="' + tableId + '"]');
    for (var c = 0; c < counts.length; c++) {
      counts[c].textContent = shown + " of " + total + " rows";
    }
  }

  function applyMetric(select) {
    var table = document.getElementById(select.getAttribute("data-metric-for"));
    if (!table) return;
    var cells = table.querySelectorAll("[data-metric]");
    for (var i = 0; i < cells.length; i++) {
      cells[i].hidden = select.value !== "" &&
        cells[i].getAttribute("data-metric") !== select.value;
    }
  }

  function init() {
    var tables = document.querySelectorAll("table.board");
    Array.prototype.forEach.call(tables, function (table) {
      var heads = table.querySelectorAll("thead th.sortable");
      Array.prototype.forEach.call(heads, function (th) {
        var col = Number(th.getAttribute("data-col"));
        var button = th.querySelector("button") || th;
        button.addEventListener("click", function () { sortTable(table, col, th); });
      });
      applyFilters(table.id);
    });
    var filters = document.querySelectorAll("select[data-filter-for]");
    Array.prototype.forEach.call(filters, function (select) {
      select.addEventListener("change", function () {
        applyFilters(select.getAttribute("data-filter-for"));
      });
    });
    var metrics = document.querySelectorAll("select[data-metric-for]");
    Array.prototype.forEach.call(metrics, function (select) {
      select.addEventListener("change", function () { applyMetric(select); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
