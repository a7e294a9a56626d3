import type { BrowserContext } from 'playwright-core';

/** What launchBrowserWithExtension learnt about a browser, so openPopup can take just the context. */
export interface LaunchInfo {
  extensionId: string;
  devtoolsUrl: string;
  /** `action.default_popup` from the manifest, e.g. `src/popup/index.html`. */
  popupPath: string | undefined;
}

const launches = new WeakMap<BrowserContext, LaunchInfo>();

export function rememberLaunch(context: BrowserContext, info: LaunchInfo): void {
  launches.set(context, info);
}

export function launchInfo(context: BrowserContext): LaunchInfo {
  const info = launches.get(context);
  if (info === undefined) throw new Error('this context was not started by launchBrowserWithExtension(); start it with that to use openPopup()');
  return info;
}
