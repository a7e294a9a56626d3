// Every page: after a navigation, focus lands on the new page (WCAG 2.4.3 focus order) — on the
// element the page names with `autofocus` (the first error, a notice, the one field to type into) or
// else its heading. The browser's own autofocus usually does the first; this covers pages without one
// and an autofocus the browser skipped (it skips them when the URL has a #fragment), never overriding
// focus already placed; with a #fragment and no autofocus, focus goes to the fragment's target.
// A static file: the CSP allows no inline script.
addEventListener('load', () => {
  if (document.activeElement !== document.body) return;
  const fragment = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  const target = document.querySelector('main [autofocus]') ?? fragment ?? document.querySelector('main h1');
  if (!target) return;
  if (!target.matches('a[href], button, input, select, textarea, [tabindex]')) target.setAttribute('tabindex', '-1');
  target.focus();
});
