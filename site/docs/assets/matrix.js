// Matrix filters: text (method, path, operation id, summary), verdict, state × outcome, and the
// folded unobserved rows. The filters live in the URL (?q=&verdict=&state=&outcome=&unobserved=1)
// so a filtered matrix can be linked; with several matrices on a page the URL drives them all.
// No dependencies. Material's instant navigation re-renders pages, so setup runs on each document$.
(function () {
  var KEYS = ["q", "verdict", "state", "outcome", "unobserved"];
  var unnamed = 0;

  function params() {
    var out = {};
    try {
      var p = new URLSearchParams(window.location.search);
      KEYS.forEach(function (k) { out[k] = p.get(k) || ""; });
    } catch (e) { /* an old browser: no filters from the URL */ }
    return out;
  }

  function writeParams(values) {
    try {
      var p = new URLSearchParams(window.location.search);
      KEYS.forEach(function (k) { if (values[k]) { p.set(k, values[k]); } else { p.delete(k); } });
      var query = p.toString();
      var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
      window.history.replaceState(window.history.state, "", url);
    } catch (e) { /* file:// in some browsers refuses replaceState: the filters still apply */ }
  }

  function setup(root) {
    if (root.getAttribute("data-ready")) return;
    var table = root.querySelector("table.authcat-matrix");
    if (!table || !table.tBodies.length) return;
    var controls = {};
    KEYS.forEach(function (k) { controls[k] = root.querySelector("[data-filter=" + k + "]"); });
    var count = root.querySelector("[data-count]");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var cells = rows.map(function (row) {
      var map = {};
      (row.getAttribute("data-cells") || "").split(" ").forEach(function (pair) {
        var i = pair.indexOf("=");
        if (i > 0) map[pair.slice(0, i)] = pair.slice(i + 1);
      });
      return map;
    });

    function value(k) {
      var el = controls[k];
      if (!el) return "";
      return el.type === "checkbox" ? (el.checked ? "1" : "") : el.value;
    }

    function apply(fromUser) {
      var words = value("q").trim().toLowerCase().split(/\s+/).filter(Boolean);
      var v = value("verdict"), st = value("state"), oc = value("outcome"), all = value("unobserved");
      var shown = 0, observed = 0;
      rows.forEach(function (row, i) {
        var unobserved = row.hasAttribute("data-unobserved");
        if (!unobserved) observed++;
        var text = row.getAttribute("data-search") || "";
        var ok = words.every(function (w) { return text.indexOf(w) !== -1; }) &&
                 (!v || row.getAttribute("data-verdict") === v) &&
                 (!unobserved || all || v === "not-served" || v === "not-probed");
        if (ok && (st || oc)) {
          var c = cells[i];
          ok = st ? (c[st] !== undefined && (!oc || c[st] === oc))
                  : Object.keys(c).some(function (k) { return c[k] === oc; });
        }
        row.hidden = !ok;
        if (ok) shown++;
      });
      if (count) {
        count.textContent = shown + " of " + rows.length + " rows shown (" + observed + " observed" +
          (rows.length > observed ? ", " + (rows.length - observed) + " unobserved" + (all ? "" : " folded") : "") + ")";
      }
      if (fromUser) {
        var values = {};
        KEYS.forEach(function (k) { values[k] = value(k); });
        writeParams(values);
      }
    }

    // Phones: one state's column at a time (a caniuse-like list per state), picked here; the rule
    // lives in a media query, so wider screens keep every column whatever is picked.
    var picker = root.querySelector("select[data-view=state]");
    var style = document.createElement("style");
    root.appendChild(style);
    if (!root.id) root.id = "authcat-matrix-" + (++unnamed);
    function view() {
      var st = picker ? picker.value : "";
      var quoted = st.replace(/["\\]/g, "\\$&");
      style.textContent = st ? "@media (max-width: 44.984375em) { #" + root.id + " .authcat-matrix [data-state]:not([data-state=\"" +
        quoted + "\"]) { display: none; } #" + root.id + " .authcat-matrix thead th.state span { writing-mode: horizontal-tb; transform: none; } #" +
        root.id + " .authcat-matrix th.endpoint { max-width: none; } #" + root.id + " .authcat-matrix { width: 100%; } }" : "";
    }
    if (picker) {
      picker.addEventListener("change", view);
      // Filtering by a state shows that state's column on a phone too.
      if (controls.state) controls.state.addEventListener("change", function () {
        if (controls.state.value && picker.querySelector("option[value='" + controls.state.value.replace(/'/g, "") + "']")) {
          picker.value = controls.state.value;
          view();
        }
      });
    }

    var initial = params();
    KEYS.forEach(function (k) {
      var el = controls[k];
      if (!el) return;
      if (el.type === "checkbox") { el.checked = initial[k] === "1"; }
      else if (initial[k] && (el.tagName !== "SELECT" || el.querySelector("option[value='" + initial[k].replace(/'/g, "") + "']"))) {
        el.value = initial[k];
      }
      el.addEventListener(el.tagName === "SELECT" || el.type === "checkbox" ? "change" : "input", function () { apply(true); });
    });
    // A link to a folded row (#row-…) unfolds it.
    var target = window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (target && table.contains(target) && controls.unobserved) {
      var tr = target.closest("tr");
      if (tr && tr.hasAttribute("data-unobserved")) controls.unobserved.checked = true;
    }
    if (picker && initial.state && picker.querySelector("option[value='" + initial.state.replace(/'/g, "") + "']")) picker.value = initial.state;
    view();
    apply(false);
    root.setAttribute("data-ready", "1");
  }

  function init() { document.querySelectorAll("[data-authcat-matrix]").forEach(setup); }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(init); }
  else if (document.readyState !== "loading") { init(); }
  else { document.addEventListener("DOMContentLoaded", init); }
})();
