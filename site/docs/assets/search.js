// Search, loaded on first use and landing on the endpoint.
//
// 1. Material asks for search/search_index.json (about 1 MB, most of a first visit) as soon as any
//    page loads. Loaded before Material's bundle (mkdocs.yml: extra.polyfills), this holds that one
//    request back until the reader reaches for search: focusing the search box, a click on the
//    search button, or the keys Material opens search with. Every other request goes out as usual.
//    From file:// Material reads search/search_index.js from disk through a script tag instead:
//    nothing crosses a network there, so nothing is held back.
// 2. A hit on a page of endpoints lists the page and, under it, its sections (one per endpoint).
//    The page's own link goes to the top of the page, so it is pointed at its best section: the
//    first hit of a search lands on the endpoint.
(function () {
  var INDEX = /\/search\/search_index\.json(\?|$)/;
  var wanted = false, held = [];

  function want() {
    if (wanted) return;
    wanted = true;
    held.splice(0).forEach(function (go) { go(); });
  }

  var open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.authcatIndex = INDEX.test(String(url));
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var xhr = this, args = arguments;
    if (!xhr.authcatIndex || wanted) return send.apply(xhr, args);
    held.push(function () { send.apply(xhr, args); });
  };

  // A link with ?q= opens search with a query: it needs the index at once.
  try { if (new URLSearchParams(location.search).has("q")) wanted = true; } catch (e) { wanted = true; }
  document.addEventListener("focusin", function (e) {
    if (e.target.closest && e.target.closest(".md-search")) want();
  }, true);
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("label[for='__search'], .md-search")) want();
  }, true);
  document.addEventListener("change", function (e) { if (e.target.id === "__search") want(); }, true);
  document.addEventListener("keydown", function (e) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) || e.target.isContentEditable;
    if (!typing && (e.key === "/" || e.key === "s" || e.key === "f" || e.key === "S" || e.key === "F")) want();
  }, true);

  function landOnSections(list) {
    list.querySelectorAll("li.md-search-result__item").forEach(function (item) {
      var links = item.querySelectorAll("a.md-search-result__link");
      if (links.length < 2) return;
      var page = links[0], best = links[1];
      if (!/\/apis\/[^/]+\/[^/#]+\.html/.test(page.href) || page.href.indexOf("#") !== -1) return;
      page.href = best.href;
    });
  }
  function watch() {
    var list = document.querySelector(".md-search-result__list");
    if (!list) return;
    new MutationObserver(function () { landOnSections(list); }).observe(list, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
