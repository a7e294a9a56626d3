import { useEffect, useRef, useState } from 'preact/hooks';
import { send } from './api.js';
import { LiveStatus } from './components.js';
import { describeClockOffset } from './describe-clock-offset.js';

/**
 * The warning, above the codes, that this computer's clock is too far from the site's for its codes to be
 * accepted (describe-clock-offset.ts). Asked for once per tab, and only when an account fills on the tab's site
 * (the background checks that again, with its host access). Polite: the person learns why codes may be refused
 * without being interrupted, and the region is on the screen, empty, before the words arrive (LiveStatus).
 * Nothing is said when there is no reading — a site that does not answer is not the person's problem.
 */
export function ClockWarning(props: { tabId: number | null; hasAccount: boolean }) {
  const [text, setText] = useState<string | null>(null);
  const askedFor = useRef<number | null>(null);
  useEffect(() => {
    if (props.tabId === null || !props.hasAccount || askedFor.current === props.tabId) return;
    askedFor.current = props.tabId;
    void send({ type: 'clock-offset', tabId: props.tabId }).then((result) => {
      if (result.ok) setText(describeClockOffset(result.offsetMs, result.origin));
    });
  }, [props.tabId, props.hasAccount]);
  return (
    <div class="clock-warning">
      <LiveStatus kind="info" text={text} />
    </div>
  );
}
