import { describe, expect, it } from 'vitest';
import { LoginPage } from './login-page.js';
import type { PageContext } from './layout.js';
import { RecoveryCodeLoginPage } from './recovery-code-login-page.js';
import { renderDocument } from './render.js';

const page: PageContext = { csrfToken: 'csrf', username: null, flash: null };

/** The opening tag of the element the browser focuses on load: the first one carrying `autofocus`. */
function autofocused(html: string): string {
  return /<[a-z]+\b[^>]*\bautofocus\b[^>]*>/.exec(html)?.[0] ?? '';
}

describe('login pages: a refusal is where focus lands, so a screen reader reads it first', () => {
  it('the password step: a wrong password or a lock-out takes focus before the username field', () => {
    for (const message of ['The username or password is incorrect.', 'Too many failed attempts. Try again in 15 minutes.']) {
      const html = renderDocument(LoginPage({ page, next: null, form: { values: { username: 'alice' }, errors: [message] } }));
      expect(autofocused(html)).toMatch(/class="notice notice-error" role="alert"/);
      expect(autofocused(html)).toContain('tabindex="-1"');
    }
    // Nothing refused: the username field, as before.
    expect(autofocused(renderDocument(LoginPage({ page, next: null })))).toMatch(/name="username"/);
  });

  it('the recovery-code step: "Invalid recovery code. N attempts left" takes focus before the code field', () => {
    const html = renderDocument(RecoveryCodeLoginPage({ page, query: '?token=t', form: { errors: ['Invalid recovery code. 4 attempts left.'] } }));
    expect(autofocused(html)).toMatch(/class="notice notice-error" role="alert"/);
    expect(autofocused(renderDocument(RecoveryCodeLoginPage({ page, query: '?token=t' })))).toMatch(/name="recovery_code_value"/);
  });
});
