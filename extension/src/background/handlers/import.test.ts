import { describe, expect, it } from 'vitest';
import { PASS, SECRET, setup, withAccount } from '../service-setup.test-helper.js';

describe('import', () => {
  it('imports otpauth lines: adds new, skips duplicates, reports bad lines, never overwrites', async () => {
    const { service } = await withAccount();
    const text = [
      `otpauth://totp/PyPI:alice?secret=${SECRET}&issuer=PyPI`,
      'otpauth://totp/GitHub:alice?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=GitHub',
      '',
      'otpauth://totp/PyPI:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=PyPI',
      'not a uri',
    ].join('\n');
    const report = await service.handle({ type: 'import', text, origin: 'https://pypi.org' });
    expect(report).toEqual({
      ok: true,
      added: 1,
      duplicates: ['PyPI: alice'],
      conflicts: ['PyPI: alice'],
      errors: [{ line: 5, message: expect.stringMatching(/otpauth/) }],
    });
    const codes = await service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts.map((a) => a.issuer)).toEqual(['PyPI', 'GitHub']);
  });

  it('imports an encrypted backup into another vault only with its passphrase', async () => {
    const source = await withAccount();
    const exported = await source.service.handle({ type: 'export' });
    if (!exported.ok) throw new Error(exported.error);

    const target = setup();
    await target.service.handle({ type: 'create', passphrase: 'another long passphrase' });
    expect(await target.service.handle({ type: 'import', text: exported.text, origin: 'https://pypi.org' })).toMatchObject({
      ok: false,
      code: 'needs-passphrase',
    });
    expect(await target.service.handle({ type: 'import', text: exported.text, passphrase: 'wrong wrong wrong', origin: 'https://pypi.org' })).toMatchObject({
      ok: false,
      code: 'needs-passphrase',
      error: expect.stringMatching(/Wrong passphrase/),
    });
    expect(await target.service.handle({ type: 'import', text: exported.text, passphrase: PASS, origin: 'https://pypi.org' })).toEqual({
      ok: true,
      added: 1,
      duplicates: [],
      conflicts: [],
      errors: [],
    });
    expect(await target.service.handle({ type: 'import', text: exported.text, passphrase: PASS, origin: 'https://pypi.org' })).toEqual({
      ok: true,
      added: 0,
      duplicates: ['PyPI: alice'],
      conflicts: [],
      errors: [],
    });
    const codes = await target.service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts[0]).toMatchObject({ issuer: 'PyPI', label: 'alice', origin: 'https://pypi.org' });
  });

  it('refuses an empty file', async () => {
    const { service } = await withAccount();
    expect(await service.handle({ type: 'import', text: '  \n', origin: 'https://pypi.org' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/empty/),
    });
  });
});
