// Every page: after a navigation, focus lands on the new page's heading (WCAG 2.4.3 focus order),
// unless the page names its own focus target with `autofocus` (the first error, a notice, the one
// field to type into). A static file: the CSP allows no inline script. Loaded as a module, so it runs
// once the document is parsed.
const heading = document.querySelector('main h1');
if (heading && !document.querySelector('[autofocus]') && document.activeElement === document.body && !location.hash) {
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: true });
}
