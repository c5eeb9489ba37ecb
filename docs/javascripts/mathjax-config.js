// MathJax 3 configuration for the lstm_sym site.
//
// The MathJax files are served from this site (assets/mathjax), never from a CDN.
// - tex.tags "ams": numbered display equations, \label / \eqref links.
// - "noundefined" is removed, so an unknown macro is a real TeX error (an mjx-merror node)
//   instead of silently rendering in red; the browser test fails on such errors.
// - startup.typeset is false: the page is typeset exactly once, by the document$ subscription
//   below, which also fires on every instant-navigation page change.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams",
    packages: { "[-]": ["noundefined"] },
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
  startup: {
    typeset: false,
  },
};

// Material's instant navigation swaps the page's <head>, which detaches MathJax's CHTML
// stylesheet: the glyph rules MathJax then adds fail ("can't insert css rule") and the rules
// of earlier pages are lost, so most math shows blank. Before every typeset, drop the output
// cache (used glyphs, wrapper styles, the stylesheet element): MathJax then writes one fresh,
// complete stylesheet for the page into the current <head>.
function dropChtmlStyles() {
  MathJax.startup.output.clearCache();
  document.querySelectorAll("style#MJX-CHTML-styles").forEach((node) => node.remove());
}

document$.subscribe(() => {
  MathJax.startup.promise = MathJax.startup.promise
    .then(() => {
      dropChtmlStyles();
      MathJax.typesetClear();
      MathJax.texReset();
      return MathJax.typesetPromise();
    })
    .catch((err) => console.error("MathJax typesetting failed:", err));
});
