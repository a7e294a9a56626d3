import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ImportReport, ImportSkip } from '../background/messages.js';
import { BidiText } from './BidiText.js';
import { describeImportSkip } from './describe-import-skip.js';

/** What an import did: how many accounts it added, and each one it skipped or could not read, and why. */
export function ImportSummary(props: { report: ImportReport }) {
  const { added, duplicates, conflicts, errors } = props.report;
  const ref = useRef<HTMLDivElement>(null);
  // The Import button is disabled while importing, which drops its focus to <body>: the report takes it,
  // so a keyboard user is where the result is and a screen reader reads it.
  useEffect(() => ref.current?.focus(), [props.report]);
  return (
    <div ref={ref} class="import-report" role="status" tabIndex={-1}>
      <p>
        <strong>{added}</strong> account{added === 1 ? '' : 's'} added.
      </p>
      <SkippedAccounts skips={duplicates} kind="duplicate" listClass="import-skips">
        Skipped {duplicates.length}, the same secret for the same site as an account already there or earlier in this import:
      </SkippedAccounts>
      <SkippedAccounts skips={conflicts} kind="conflict">
        Not imported — the same name and site as an account already there, but a different secret (nothing was overwritten):
      </SkippedAccounts>
      {/* Under a heading of their own, by line: right after the conflicts' list, without one, they read as more
          conflicts (QA). */}
      {errors.length > 0 ? (
        <>
          <h3 class="import-report-heading">Lines that could not be read ({errors.length})</h3>
          <ul class="import-errors">
            {[...errors]
              .sort((a, b) => a.line - b.line)
              .map((e) => (
                <li>
                  Line {e.line}: {e.message}
                </li>
              ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

/** One kind of skipped account: the sentence saying why (`children`), then each one, its name isolated; nothing when none. */
function SkippedAccounts(props: { skips: ImportSkip[]; kind: 'duplicate' | 'conflict'; listClass?: string; children: ComponentChildren }) {
  if (props.skips.length === 0) return null;
  return (
    <>
      <p>{props.children}</p>
      <ul class={props.listClass}>
        {props.skips.map((skip) => (
          <li>
            <BidiText text={describeImportSkip(skip, props.kind)} />
          </li>
        ))}
      </ul>
    </>
  );
}
