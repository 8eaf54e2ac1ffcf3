// Matrix filters: a search box over method, path and summary, and a verdict filter. No
// dependencies. Material's instant navigation re-renders pages, so setup runs on each document$.
(function () {
  function setup(root) {
    if (root.getAttribute("data-ready")) return;
    var table = root.querySelector("table.authcat-matrix");
    if (!table || !table.tBodies.length) return;
    root.setAttribute("data-ready", "1");
    var search = root.querySelector("input[data-filter=search]");
    var verdict = root.querySelector("select[data-filter=verdict]");
    var count = root.querySelector("[data-count]");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    function apply() {
      var words = (search && search.value || "").trim().toLowerCase().split(/\s+/).filter(Boolean);
      var v = verdict && verdict.value || "";
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.getAttribute("data-search") || "";
        var ok = words.every(function (w) { return text.indexOf(w) !== -1; }) &&
                 (!v || row.getAttribute("data-verdict") === v);
        row.hidden = !ok;
        if (ok) shown++;
      });
      if (count) count.textContent = shown + " of " + rows.length + " endpoints";
    }
    if (search) search.addEventListener("input", apply);
    if (verdict) verdict.addEventListener("change", apply);
    apply();
  }
  function init() { document.querySelectorAll("[data-authcat-matrix]").forEach(setup); }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(init); }
  else if (document.readyState !== "loading") { init(); }
  else { document.addEventListener("DOMContentLoaded", init); }
})();
