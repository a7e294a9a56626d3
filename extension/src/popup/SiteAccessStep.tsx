import { useEffect, useRef } from 'preact/hooks';
import { Header, LiveStatus } from './components.js';
import { requestSiteAccess } from './site-access.js';

/**
 * After an account was saved for a site the extension has no access to yet: offer to ask for it, as a
 * separate click. Asked for in the Save click, Chromium's prompt closed the popup before the result could
 * be shown, and a prompt left unanswered (headless Firefox) held the result up for ever.
 */
export function SiteAccessStep(props: {
  /** The screen's title (the add or the edit screen). */
  title: string;
  /** What was done, e.g. "Added PyPI (alice)." — shown here and on the list afterwards. */
  done: string;
  /** The account's canonical origin. */
  site: string;
  onDone: (notice?: string) => void;
}) {
  const { title, done, site, onDone } = props;
  const allowButton = useRef<HTMLButtonElement>(null);
  useEffect(() => allowButton.current?.focus(), []);

  function allow() {
    // Synchronously inside the click: browsers show the permission prompt only during a user gesture.
    // Chromium may close the popup while its prompt shows; the account is saved either way.
    void requestSiteAccess(site).then((granted) => onDone(granted ? `${done} Latchkey may now recognise ${site} by itself.` : done));
  }

  return (
    <main
      class="screen"
      onKeyDown={(event) => {
        // Escape is "Not now" here: back to the list, still saying what was saved.
        if (event.key !== 'Escape') return;
        event.preventDefault();
        onDone(done);
      }}
    >
      <Header title={title} onBack={() => onDone(done)} />
      {/* In a live region that is there first: a status inserted holding its text is not read (QA). */}
      <LiveStatus kind="success" text={done} />
      <p>
        Latchkey fills its codes on <strong class="mono">{site}</strong> when you open Latchkey from the toolbar on that page. To let it also recognise the page
        by itself (and use the keyboard shortcut there), allow it access to that site.
      </p>
      <button ref={allowButton} type="button" class="button button-primary button-wide" onClick={allow}>
        Allow access to {site}
      </button>
      <button type="button" class="button button-secondary button-wide" onClick={() => onDone(done)}>
        Not now
      </button>
    </main>
  );
}
