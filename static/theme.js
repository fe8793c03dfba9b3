// Applies the stored theme before the first paint (a classic script in
// <head>, so the page never flashes the wrong colours). Without a stored
// choice the page follows prefers-color-scheme through CSS alone.
(function () {
  try {
    var t = localStorage.getItem("vitals.theme");
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  } catch (e) {
    /* storage disabled: follow the system */
  }
})();
