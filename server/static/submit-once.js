// The second login step's code forms (`data-submit-once`) are sent once. A second submission while the
// first is on its way — a double-click on Verify, or the extension's auto-submit followed by an Enter —
// would post the same one-time code again, and the browser shows only the answer to its last navigation:
// it drops the first answer, and with it the cookie of the session that answer started, so the person
// would be shown "Log in again" (or "Form expired", when the first answer's cookie did arrive) though the
// first request logged them in. The server counts such a duplicate as no guess (services/login.ts), but
// it cannot log this browser in a second time with a code already accepted (NIST SP 800-63B 5.1.4.2), so
// the page must not send it. A static file: the CSP allows no inline script.

/** A submission that got no answer in this long (the network dropped it, Stop was pressed) may be sent again. */
const RETRY_AFTER_MS = 10_000;

const forms = document.querySelectorAll('form[data-submit-once]');
/** When each form was last sent, by this page. */
const sentAt = new Map();

for (const form of forms) {
  form.addEventListener('submit', (event) => {
    // Another listener already stopped this submission: nothing is sent, nothing to guard.
    if (event.defaultPrevented) return;
    const last = sentAt.get(form);
    if (last !== undefined && performance.now() - last < RETRY_AFTER_MS) {
      event.preventDefault();
      return;
    }
    sentAt.set(form, performance.now());
    // Said to assistive technology too: the form is busy, not broken.
    form.setAttribute('aria-busy', 'true');
    setTimeout(() => form.removeAttribute('aria-busy'), RETRY_AFTER_MS);
  });
}

// Back to this page from the browser's cache: nothing is on its way any more.
addEventListener('pageshow', (event) => {
  if (!event.persisted) return;
  sentAt.clear();
  for (const form of forms) form.removeAttribute('aria-busy');
});
