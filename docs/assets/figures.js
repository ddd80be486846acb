// Wide figures (the U) scroll sideways in their own box on a narrow screen. Each box opens at the stages its
// page highlights (data-focus: "start,end" of their span, as fractions of the drawing's width): centred if
// the span fits the screen, else at its start.
(function () {
  "use strict";
  function focus() {
    for (const box of document.querySelectorAll(".unet-figure-scroll[data-focus]")) {
      const full = box.scrollWidth, shown = box.clientWidth;
      if (full <= shown) continue;
      const [start, end] = box.dataset.focus.split(",").map((f) => parseFloat(f) * full);
      const at = end - start <= shown ? (start + end - shown) / 2 : start - 8;
      box.scrollLeft = Math.max(0, Math.min(at, full - shown));
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focus);
  else focus();
  window.addEventListener("load", focus);
  if (window.document$ && window.document$.subscribe) window.document$.subscribe(focus);
})();
