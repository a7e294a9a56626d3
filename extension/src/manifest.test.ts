import { describe, expect, it } from 'vitest';
import { manifestFor, type BuildTarget } from '../manifest.config.js';
import { createKeySession } from './background/key-session.js';

type Manifest = chrome.runtime.ManifestV3 & {
  background: { service_worker?: string; scripts?: string[] };
  browser_specific_settings?: { gecko?: { id?: string; strict_min_version?: string; data_collection_permissions?: { required: string[] } } };
  optional_host_permissions?: string[];
};

function manifest(target: BuildTarget): Manifest {
  const value = manifestFor(target) as unknown;
  return (typeof value === 'function' ? (value as (env: object) => Manifest)({ command: 'build', mode: 'production' }) : value) as Manifest;
}

describe('manifest', () => {
  it('the refusal for a browser without storage.session names the versions the manifests require', async () => {
    const chromium = manifest('chromium').minimum_chrome_version;
    const firefox = manifest('firefox').browser_specific_settings?.gecko?.strict_min_version?.replace(/\.0$/, '');
    await expect(createKeySession(undefined)).rejects.toThrow(`Latchkey needs Chromium ${chromium}+ or Firefox ${firefox}+.`);
  });

  it.each<BuildTarget>(['chromium', 'firefox'])('%s ships with minimal permissions and no loopback hosts', (target) => {
    const m = manifest(target);
    expect(m.permissions).toEqual(['activeTab', 'scripting', 'storage', 'alarms']);
    expect(m.host_permissions).toEqual(['https://pypi.org/*', 'https://test.pypi.org/*']);
    expect(m.optional_host_permissions).toEqual(['https://*/*', 'http://*/*']);
    expect(m.content_scripts).toBeUndefined(); // page code is injected on demand only
    expect(m.content_security_policy?.extension_pages).toBe("script-src 'self' 'wasm-unsafe-eval'; object-src 'self'");
    expect(m.commands?.['fill-totp']?.suggested_key).toEqual({ default: 'Alt+Shift+L' });
  });

  it('the test build adds only the loopback hosts', () => {
    const shipped = manifest('chromium');
    const test = manifest('chromium-test');
    expect(test.host_permissions).toEqual([...(shipped.host_permissions ?? []), 'http://127.0.0.1/*', 'http://localhost/*']);
    expect({ ...test, host_permissions: [], name: '' }).toEqual({ ...shipped, host_permissions: [], name: '' });
  });

  it('generates the browser differences', () => {
    expect(manifest('chromium').background).toEqual({ service_worker: 'src/background/index.ts', type: 'module' });
    expect(manifest('firefox').background).toEqual({ scripts: ['src/background/index.ts'], type: 'module' });
    expect(manifest('firefox').browser_specific_settings?.gecko).toEqual({
      id: 'latchkey@latchkey.dev',
      strict_min_version: '140.0', // the first Firefox with data_collection_permissions (web-ext lint warns below it)
      data_collection_permissions: { required: ['none'] },
    });
    expect(manifest('chromium').browser_specific_settings).toBeUndefined();
  });
});
