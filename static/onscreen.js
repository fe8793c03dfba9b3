// watchOnScreen says whether an element is in the viewport, so a part of
// the page that is out of sight can skip its per-tick work (text, layout,
// paint) and catch up from the state it holds when it comes back into
// view. Where IntersectionObserver is missing (node tests) everything
// counts as on screen, which only costs what it did before.
//
// It returns {on}: on is true until the observer first says otherwise.
// onShow runs each time the element comes into view; it must draw the
// newest state, since ticks were skipped while it was out of sight.
export function watchOnScreen(el, onShow) {
  const w = { on: true };
  if (typeof IntersectionObserver === "undefined") return w;
  new IntersectionObserver((entries) => {
    for (const e of entries) w.on = e.isIntersecting;
    if (w.on) onShow();
  }).observe(el);
  return w;
}
