import { describe, expect, it } from 'vitest';
import { describeScanFailure } from './describe-scan-failure.js';

describe('describeScanFailure', () => {
  it.each([
    ["Either the '<all_urls>' or 'activeTab' permission is required.", 'Chromium without the toolbar click'],
    ['Missing activeTab permission', 'Firefox without the toolbar click'],
    ['Cannot access contents of url "chrome://extensions/". Extension manifest must request permission to access this host.', 'a browser page'],
  ])('explains what to do instead of %j (%s)', (raw) => {
    const message = describeScanFailure(new Error(raw));
    expect(message).toMatch(/click the Latchkey button in the toolbar/);
    expect(message).toMatch(/Paste link or Type it/);
    expect(message).not.toContain(raw);
  });

  it('keeps an unexpected error visible, with the way out', () => {
    expect(describeScanFailure(new Error('Tab is being dragged'))).toBe(
      'Could not capture this tab (Tab is being dragged). Use Paste link or Type it instead.',
    );
  });
});
