// Matrix filters: a search box over paths and summaries, and a verdict filter. No dependencies.
(function () {
  function setup(root) {
    var table = root.querySelector("table.authcat-matrix");
    var search = root.querySelector("input[data-filter=search]");
    var verdict = root.querySelector("select[data-filter=verdict]");
    var count = root.querySelector("[data-count]");
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    function apply() {
      var q = (search && search.value || "").trim().toLowerCase();
      var v = verdict && verdict.value || "";
      var shown = 0;
      rows.forEach(function (row) {
        var ok = (!q || row.getAttribute("data-search").indexOf(q) !== -1) &&
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
