/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { formatRecoveryCode } from '@latchkey/shared';
import type { SupportContact } from '../config.js';
import { WhyRecoveryCodes } from './help.js';
import { Layout, type PageContext } from './layout.js';
import { RECOVERY_CODE_ROUTES } from './recovery-code-routes.js';

/** The only time recovery codes are ever shown: copy, download, print — with a strong warning. */
export interface RecoveryCodesPageProps {
  page: PageContext;
  codes: string[];
  firstTime: boolean;
  allUsed?: boolean;
  /** LATCHKEY_SUPPORT_CONTACT: how someone who lost every factor and code reaches the administrators (null: unset). */
  support?: SupportContact | null;
  /** The site's public origin (LATCHKEY_ORIGIN): which site the codes are for, on the printout and in the file. */
  site: string;
  /** When the set was made (ms): its date tells this set from an older one kept by mistake. */
  generatedAt: number;
}

/** A file name's part for `origin`'s host: letters, digits, dots and hyphens (a port's colon is no file name's). */
function hostForFileName(origin: string): string {
  return new URL(origin).host.replace(/[^A-Za-z0-9.-]/g, '-');
}

export function RecoveryCodesPage({ page, codes, firstTime, allUsed = false, support = null, site, generatedAt }: RecoveryCodesPageProps) {
  // UTC, as every time on this site (layout.tsx formatTime).
  const day = new Date(generatedAt).toISOString().slice(0, 10);
  const text =
    `Latchkey recovery codes for ${page.username ?? ''} on ${site}\nGenerated ${day}. Each code works once. Keep them secret.\n\n` +
    `${codes.map(formatRecoveryCode).join('\n')}\n`;
  const fileName = `latchkey-recovery-codes-${hostForFileName(site)}-${day}.txt`;
  return (
    <Layout page={page} title="Your recovery codes" scripts={['/static/recovery-codes.js']}>
      <h1>Save your recovery codes</h1>
      {firstTime ? <p>Two-factor authentication is now on. Before you continue, save these recovery codes.</p> : null}
      {/* 2FA was on already (QA finding 7): only the codes are new, and no unused one was voided. */}
      {allUsed ? <p>You had used all your recovery codes, so a new set was made with your new second factor. Save it before you continue.</p> : null}
      <div class="notice notice-warning" role="alert">
        <p>
          <strong>This is the only time these codes are shown.</strong> Save them now somewhere safe — a password manager, or printed on paper kept away from
          your devices. If you lose your authentication app or security key and these codes, you will be locked out of your account until an administrator
          resets it.
        </p>
        {firstTime || allUsed ? null : <p>Any older recovery codes have stopped working.</p>}
      </div>
      {/* Printed with the codes: a sheet found in a drawer says which site and account, and which set, it is. */}
      <p class="recovery-codes-for">
        For <strong>{page.username ? <bdi>{page.username}</bdi> : null}</strong> on <strong>{site}</strong>, generated {day} (UTC).
      </p>
      <ol class="recovery-codes" id="recovery-codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{formatRecoveryCode(code)}</code>
          </li>
        ))}
      </ol>
      <div class="actions">
        <button type="button" class="button" id="copy-recovery-codes" data-codes={text}>
          Copy
        </button>
        <a class="button" download={fileName} href={`data:text/plain;charset=utf-8,${encodeURIComponent(text)}`}>
          Download
        </a>
        <button type="button" class="button" id="print-recovery-codes">
          Print
        </button>
        <span id="copy-status" class="status" role="status" aria-live="polite"></span>
      </div>
      <p>
        <a class="button button-primary" href={RECOVERY_CODE_ROUTES.verify}>
          I have saved my recovery codes
        </a>
      </p>
      <p class="hint">Next you type one of them back; that proves they were saved, and that one code is used up.</p>
      <WhyRecoveryCodes support={support} />
    </Layout>
  );
}
