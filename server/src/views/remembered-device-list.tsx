/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import type { RememberedDevice } from '../services/remembered-devices.js';
import { describeUserAgent } from './describe-user-agent.js';
import { CsrfInput, formatTime, type PageContext } from './layout.js';
import { describeBrowserAndAddress, END_FIELDS, END_ROUTES, LoginAddress, thisBrowserFirst } from './session-list.js';

/** A remembered device as the account page lists it: the service's view plus its history link. */
export type RememberedDeviceSummary = RememberedDevice & { historyHref: string | null };

/**
 * Every browser that skips the second factor now, each with the address of the login that remembered it
 * (two devices of one browser type look alike, and a User-Agent is a header the client writes; written
 * as the session list and the security history write it) and a "Forget" button of its own. This browser's
 * device comes first, as in the session list ({@link thisBrowserFirst}).
 */
export function RememberedDeviceList({ page, devices }: { page: PageContext; devices: RememberedDeviceSummary[] }) {
  if (devices.length === 0) return <p>No device is remembered now.</p>;
  return (
    <ul class="item-list" aria-label="Your remembered devices">
      {thisBrowserFirst(devices).map((device) => {
        const browser = describeUserAgent(device.userAgent);
        const named = describeBrowserAndAddress(device);
        return (
          <li key={device.id} class="item">
            <p class="item-title">
              <strong>{browser}</strong>
              <LoginAddress address={device.address} />
              {device.current ? <span class="badge">This browser</span> : null}
            </p>
            <p class="muted small">
              Remembered {formatTime(device.createdAt)} · last used {formatTime(device.lastUsedAt)} · until {formatTime(device.expiresAt)}
              {device.historyHref ? (
                <>
                  {' · '}
                  <a href={device.historyHref}>
                    In security history
                    <span class="visually-hidden">
                      : {named} remembered at {formatTime(device.createdAt)}
                    </span>
                  </a>
                </>
              ) : null}
            </p>
            <form method="post" action={END_ROUTES.forgetDevice}>
              <CsrfInput token={page.csrfToken} />
              <input type="hidden" name={END_FIELDS.device} value={device.id} />
              <button type="submit" class="button button-small">
                Forget
                <span class="visually-hidden">
                  {' '}
                  {device.current ? `this browser, ${named},` : named} remembered {formatTime(device.createdAt)}
                </span>
              </button>
            </form>
          </li>
        );
      })}
    </ul>
  );
}
