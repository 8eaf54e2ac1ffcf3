// Accessibility fixes for markup Material's JavaScript adds after load: every code block's copy
// button sits in its own <nav>, and landmarks of one kind need distinct names (axe-core:
// landmark-unique). Each gets "Code block N".
(function () {
  function label() {
    document.querySelectorAll(".md-code__nav:not([aria-label])").forEach(function (nav, i) {
      var all = document.querySelectorAll(".md-code__nav");
      nav.setAttribute("aria-label", "Code block " + (Array.prototype.indexOf.call(all, nav) + 1));
    });
  }
  new MutationObserver(label).observe(document.documentElement, { childList: true, subtree: true });
  label();
})();

// A table wider than its box scrolls sideways: keyboard users must be able to reach and scroll it
// (axe-core: scrollable-region-focusable). Only the boxes that overflow at this width become tab
// stops, so narrow tables cost no Tab presses; each is named after the heading above it. Material
// wraps Markdown tables in its own scrolling box (.md-typeset__scrollwrap) after load: those too.
(function () {
  var BOXES = ".table-scroll, .md-typeset__scrollwrap";
  // The nearest heading before the box, looking through its ancestors' earlier siblings too.
  function heading(box) {
    for (var at = box; at && at !== document.body; at = at.parentElement) {
      for (var el = at.previousElementSibling; el; el = el.previousElementSibling) {
        if (/^H[1-6]$/.test(el.tagName)) return el.textContent.replace(/¶$/, "").trim();
        var inner = el.querySelectorAll && el.querySelectorAll("h1, h2, h3, h4, h5, h6");
        if (inner && inner.length) return inner[inner.length - 1].textContent.replace(/¶$/, "").trim();
      }
    }
    return "";
  }
  // Landmarks of one kind need distinct names (axe-core: landmark-unique): number repeats.
  function unique(name, box) {
    var taken = {};
    document.querySelectorAll("[role=region][aria-label]").forEach(function (el) {
      if (el !== box) taken[el.getAttribute("aria-label")] = true;
    });
    var out = name;
    for (var n = 2; taken[out]; n++) out = name + " (" + n + ")";
    return out;
  }
  function focusable() {
    document.querySelectorAll(BOXES).forEach(function (box) {
      if (box.dataset.authcatFixed === "no") return;
      var overflows = box.scrollWidth > box.clientWidth + 1;
      if (box.hasAttribute("tabindex") && !box.dataset.authcatFixed) { box.dataset.authcatFixed = "no"; return; }
      if (overflows) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", unique("Table, scrolls sideways" + (heading(box) ? ": " + heading(box) : ""), box));
        box.dataset.authcatFixed = "yes";
      } else if (box.dataset.authcatFixed === "yes") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.authcatFixed;
      }
    });
  }
  window.addEventListener("resize", focusable);
  if (window.document$ && window.document$.subscribe) window.document$.subscribe(function () { setTimeout(focusable, 0); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusable);
  else focusable();
})();
