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
