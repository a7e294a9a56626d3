import { describe, expect, it } from 'vitest';
import { filePickerNeedsTab, opensOnSettings, settingsTabUrl } from './page-view.js';

const FIREFOX_POPUP = 'moz-extension://0b2d7c1e-1111-4222-8333-944445555666/src/popup/index.html';
const CHROMIUM_POPUP = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/src/popup/index.html';

describe('page-view', () => {
  it('sends the file picker to a tab only from Firefox’s toolbar popup (which the file dialog closes)', () => {
    expect(filePickerNeedsTab(FIREFOX_POPUP)).toBe(true);
    expect(filePickerNeedsTab(settingsTabUrl(FIREFOX_POPUP))).toBe(false);
    expect(filePickerNeedsTab(CHROMIUM_POPUP)).toBe(false);
    expect(filePickerNeedsTab(`${FIREFOX_POPUP}?view=popup`)).toBe(true);
  });

  it('opens the same page as a tab on Settings', () => {
    expect(settingsTabUrl(`${FIREFOX_POPUP}#list`)).toBe(`${FIREFOX_POPUP}?view=tab#settings`);
    expect(opensOnSettings(settingsTabUrl(FIREFOX_POPUP))).toBe(true);
    expect(opensOnSettings(FIREFOX_POPUP)).toBe(false);
    expect(opensOnSettings(`${FIREFOX_POPUP}#settings`)).toBe(false);
  });
});
