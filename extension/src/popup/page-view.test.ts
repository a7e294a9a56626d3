import { describe, expect, it } from 'vitest';
import { fileDialogNeedsTab, opensOnSettings, settingsTabUrl } from './page-view.js';

const FIREFOX_POPUP = 'moz-extension://0b2d7c1e-1111-4222-8333-944445555666/src/popup/index.html';
const CHROMIUM_POPUP = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/src/popup/index.html';

describe('page-view', () => {
  it('sends the file dialogs (export’s save, import’s picker) to a tab only from Firefox’s toolbar popup, which they close', () => {
    expect(fileDialogNeedsTab(FIREFOX_POPUP)).toBe(true);
    expect(fileDialogNeedsTab(settingsTabUrl(FIREFOX_POPUP))).toBe(false);
    expect(fileDialogNeedsTab(CHROMIUM_POPUP)).toBe(false);
    expect(fileDialogNeedsTab(`${FIREFOX_POPUP}?view=popup`)).toBe(true);
  });

  it('opens the same page as a tab on Settings', () => {
    expect(settingsTabUrl(`${FIREFOX_POPUP}#list`)).toBe(`${FIREFOX_POPUP}?view=tab#settings`);
    expect(opensOnSettings(settingsTabUrl(FIREFOX_POPUP))).toBe(true);
    expect(opensOnSettings(FIREFOX_POPUP)).toBe(false);
    expect(opensOnSettings(`${FIREFOX_POPUP}#settings`)).toBe(false);
  });

  it('names the view only: nothing of the action or of a passphrase goes into the tab’s address', () => {
    const url = new URL(settingsTabUrl(`${FIREFOX_POPUP}?passphrase=secret#import`));
    expect([...url.searchParams.keys()]).toEqual(['view']);
    expect(url.hash).toBe('#settings');
  });
});
