/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { FIELDS, ROUTES } from '@latchkey/shared';
import { MAX_KEY_LABEL_LENGTH } from '../services/webauthn-key-label.js';
import type { SecurityKey } from '../services/webauthn.js';
import { WEBAUTHN_DOM, WEBAUTHN_SCRIPTS } from './webauthn-dom.js';
import { CONFIRM_TEXT } from './account-page.js';
import { PasswordField } from './reauth-field.js';
import { reauthHint, TWO_FACTOR_PURPOSE } from './reauth-hint.js';
import { allErrors, type FormState } from './form-state.js';
import { ConfirmCheckbox, CsrfInput, ErrorSummary, Field, Layout, formatTime, type PageContext } from './layout.js';

/** Renaming a key (beyond the shared contract): the key's current `label` and this new name. */
export const KEY_RENAME = { route: ROUTES.webauthnProvisionRename, newLabelField: 'new_label' } as const;

/**
 * A key's form the server refused, shown open again with why, on its field. A refused rename (the name taken, empty,
 * too long) keeps what was typed — it used to close, the typed name lost, the reason only at the top. A refused
 * removal (wrong password, the last-factor box not ticked) reopens the same way; the password is never echoed back.
 */
export type KeyFormRefusal =
  | {
      form: 'rename';
      /** The key's current label (which form). */
      label: string;
      /** The new name as typed. */
      value: string;
      error: string;
    }
  | {
      form: 'remove';
      /** The key's current label (which form). */
      label: string;
      /** The field the refusal is about: the password, or the last-factor confirmation. */
      field: 'password' | 'confirm';
      error: string;
    };

export interface WebauthnProvisionPageProps {
  page: PageContext;
  keys: SecurityKey[];
  /** Whether an authentication app is on too (else the only key is the last second factor). */
  hasTotp: boolean;
  /** When false, adding a key asks for the password first (not authenticated in the last 5 minutes). */
  recentlyAuthenticated: boolean;
  form?: FormState;
  refused?: KeyFormRefusal | undefined;
}

/**
 * Security keys: the list (name, added, last used, remove with password) and the "add" form, which
 * the page script drives (the WebAuthn ceremony needs the browser's API; no inline script).
 */
export function WebauthnProvisionPage({ page, keys, hasTotp, recentlyAuthenticated, form = {}, refused }: WebauthnProvisionPageProps) {
  return (
    <Layout page={page} title="Security keys" scripts={[WEBAUTHN_SCRIPTS.provision]}>
      <h1>Security keys</h1>
      <p>
        A security key (a USB or NFC key, or your device's built-in authenticator) is the strongest second factor: it only answers this site, so a look-alike
        page cannot phish it. Add two, and keep one somewhere safe.
      </p>
      <ErrorSummary errors={allErrors(form)} focus />

      <section class="card" aria-labelledby="key-list-heading">
        <h2 id="key-list-heading">Your keys</h2>
        <SecurityKeyList page={page} keys={keys} onlyFactor={!hasTotp && keys.length === 1} refused={refused} />
      </section>

      <section class="card" aria-labelledby="add-key-heading">
        <h2 id="add-key-heading">Add a security key</h2>
        <form id={WEBAUTHN_DOM.provisionForm} class="stack" novalidate>
          <CsrfInput token={page.csrfToken} />
          <div class="field">
            <label for={WEBAUTHN_DOM.provisionLabel}>Name</label>
            <p class="hint" id="webauthn-provision-label-hint">
              So you can tell your keys apart, e.g. “blue USB key”. At most {MAX_KEY_LABEL_LENGTH} characters.
            </p>
            <input
              id={WEBAUTHN_DOM.provisionLabel}
              name={FIELDS.label}
              type="text"
              // A label may be right-to-left: the box takes its direction from what is typed (a box is left to
              // right otherwise, and drew "مفتاح!" with its "!" on the wrong side, unlike the list below it).
              dir="auto"
              maxLength={MAX_KEY_LABEL_LENGTH}
              required
              autocomplete="off"
              aria-describedby="webauthn-provision-label-hint"
            />
          </div>
          {/*
            Always rendered, hidden inside the 5 minutes: a page left open past them shows it in place when the server asks
            for the password (the page script only toggles `hidden`; the markup lives here, not in the script).
          */}
          <div id={WEBAUTHN_DOM.provisionReauth} hidden={recentlyAuthenticated}>
            <PasswordField hint={reauthHint(TWO_FACTOR_PURPOSE)} />
          </div>
          <p id={WEBAUTHN_DOM.provisionStatus} class="status" role="status" aria-live="polite"></p>
          {/* Disabled until the page script takes over the form: without it, a submit would send the fields nowhere useful. */}
          <button id={WEBAUTHN_DOM.provisionButton} type="submit" class="button button-primary" disabled>
            Add security key
          </button>
          <noscript>
            <p class="hint">Adding a security key needs JavaScript: the browser only talks to keys through it.</p>
          </noscript>
        </form>
      </section>
      <p>
        <a href={ROUTES.manageAccount}>Back to account security</a>
      </p>
    </Layout>
  );
}

/**
 * The key table; its wrapper id lets the page script swap in a fresh copy after adding a key.
 * `onlyFactor`: the one key is the account's last second factor, so removing it asks for a confirmation.
 */
export function SecurityKeyList({
  page,
  keys,
  onlyFactor = false,
  refused,
}: {
  page: PageContext;
  keys: Pick<SecurityKey, 'label' | 'createdAt' | 'lastUsedAt'>[];
  onlyFactor?: boolean;
  refused?: KeyFormRefusal | undefined;
}) {
  return (
    <div id={WEBAUTHN_DOM.keyList}>
      {keys.length === 0 ? (
        <p>No security keys yet.</p>
      ) : (
        <table class="stacked-table">
          <caption class="visually-hidden">Your security keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="visually-hidden">Rename or remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key, index) => {
              const forKey = refused?.label === key.label ? refused : null;
              const renameRefused = forKey?.form === 'rename' ? forKey : null;
              const removeRefused = forKey?.form === 'remove' ? forKey : null;
              return (
                <tr key={key.label}>
                  {/* Not alone in its cell: stacked on a narrow screen, the cell starts with "Name: " (data-label). */}
                  <td data-label="Name" class="break-anywhere">
                    <bdi>{key.label}</bdi>
                  </td>
                  <td data-label="Added">{formatTime(key.createdAt)}</td>
                  <td data-label="Last used">{key.lastUsedAt === null ? 'Never' : formatTime(key.lastUsedAt)}</td>
                  <td>
                    <details class="details-plain" open={renameRefused !== null}>
                      <summary>
                        Rename<span class="visually-hidden"> “{key.label}”</span>
                      </summary>
                      <form method="post" action={KEY_RENAME.route} class="stack">
                        <CsrfInput token={page.csrfToken} />
                        <input type="hidden" name={FIELDS.label} value={key.label} />
                        <div class="field">
                          <label for={`rename-key-${index}`}>New name</label>
                          <input
                            id={`rename-key-${index}`}
                            name={KEY_RENAME.newLabelField}
                            type="text"
                            dir="auto"
                            value={renameRefused ? renameRefused.value : key.label}
                            maxLength={MAX_KEY_LABEL_LENGTH}
                            required
                            autocomplete="off"
                            aria-invalid={renameRefused ? 'true' : undefined}
                            aria-describedby={renameRefused ? `rename-key-${index}-error` : undefined}
                          />
                          {renameRefused ? (
                            <p class="field-error" id={`rename-key-${index}-error`}>
                              {renameRefused.error}
                            </p>
                          ) : null}
                        </div>
                        <button type="submit" class="button">
                          Rename<span class="visually-hidden"> “{key.label}”</span>
                        </button>
                      </form>
                    </details>
                    <details class="key-remove" open={removeRefused !== null}>
                      <summary>
                        Remove<span class="visually-hidden"> “{key.label}”</span>
                      </summary>
                      <form method="post" action={ROUTES.webauthnProvisionDelete} class="stack">
                        <CsrfInput token={page.csrfToken} />
                        <input type="hidden" name={FIELDS.label} value={key.label} />
                        {onlyFactor ? (
                          <>
                            <p class="notice notice-warning">
                              This is your only second factor: removing it turns two-factor authentication off and deletes your recovery codes.
                            </p>
                            <ConfirmCheckbox
                              id={`remove-key-confirm-${index}`}
                              label={CONFIRM_TEXT.lastMethod}
                              error={removeRefused?.field === 'confirm' ? removeRefused.error : undefined}
                            />
                          </>
                        ) : null}
                        <Field
                          name={FIELDS.password}
                          id={`remove-key-password-${index}`}
                          label="Confirm with your password"
                          type="password"
                          autocomplete="current-password"
                          error={removeRefused?.field === 'password' ? removeRefused.error : undefined}
                        />
                        <button type="submit" class="button button-danger">
                          Remove “<bdi>{key.label}</bdi>”
                        </button>
                      </form>
                    </details>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
