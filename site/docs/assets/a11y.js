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
// stops, so narrow tables cost no Tab presses; each is named after the heading above it.
(function () {
  function heading(box) {
    for (var el = box.previousElementSibling; el; el = el.previousElementSibling) {
      if (/^H[1-6]$/.test(el.tagName)) return el.textContent.replace(/¶$/, "").trim();
    }
    return "";
  }
  function focusable() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.dataset.authcatFixed === "no") return;
      var overflows = box.scrollWidth > box.clientWidth + 1;
      if (box.hasAttribute("tabindex") && !box.dataset.authcatFixed) { box.dataset.authcatFixed = "no"; return; }
      if (overflows) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", "Table, scrolls sideways" + (heading(box) ? ": " + heading(box) : ""));
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
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusable);
  else focusable();
})();
