import { describe, expect, it } from 'vitest';
import { named, PASS, SECRET, setup, withAccount } from '../service-setup.test-helper.js';

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
      duplicates: [{ name: named('PyPI', 'alice'), line: 1, sameAs: { in: 'vault', name: named('PyPI', 'alice') } }],
      conflicts: [{ name: named('PyPI', 'alice'), line: 4, sameAs: { in: 'vault', name: named('PyPI', 'alice') } }],
      errors: [{ line: 5, message: expect.stringMatching(/otpauth/) }],
      backup: { lastAt: null, accountsSince: 2, accounts: 2 },
    });
    const codes = await service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts.map((a) => a.issuer)).toEqual(['PyPI', 'GitHub']);
  });

  it('says what a skipped line ran into: the vault account under its own name, or an earlier line of the file', async () => {
    const { service } = await withAccount();
    const other = 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ';
    const text = [
      '# exported from another app',
      `otpauth://totp/GitHub:bob?secret=${other}&issuer=GitHub`,
      '',
      // The vault's "PyPI: alice" under another name (the same secret for the same site).
      `otpauth://totp/Work:alice?secret=${SECRET}&issuer=Work`,
      `otpauth://totp/Mirror:bob?secret=${other}&issuer=Mirror`,
      // Line 2 again, and its name with another secret.
      `otpauth://totp/GitHub:bob?secret=${other}&issuer=GitHub`,
      'otpauth://totp/GitHub:BOB?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=GitHub',
    ].join('\r\n');
    const report = await service.handle({ type: 'import', text, origin: 'https://pypi.org' });
    expect(report).toMatchObject({
      ok: true,
      added: 1,
      duplicates: [
        { name: named('Work', 'alice'), line: 4, sameAs: { in: 'vault', name: named('PyPI', 'alice') } },
        { name: named('Mirror', 'bob'), line: 5, sameAs: { in: 'file', name: named('GitHub', 'bob'), line: 2 } },
        { name: named('GitHub', 'bob'), line: 6, sameAs: { in: 'file', name: named('GitHub', 'bob'), line: 2 } },
      ],
      conflicts: [{ name: named('GitHub', 'BOB'), line: 7, sameAs: { in: 'file', name: named('GitHub', 'bob'), line: 2 } }],
      errors: [],
    });
    // What was merged is unchanged: the vault's account and line 2, nothing else.
    const codes = await service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts.map((a) => `${a.issuer}: ${a.label}`)).toEqual(['PyPI: alice', 'GitHub: bob']);
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
      backup: { lastAt: null, accountsSince: 1, accounts: 1 },
    });
    expect(await target.service.handle({ type: 'import', text: exported.text, passphrase: PASS, origin: 'https://pypi.org' })).toEqual({
      ok: true,
      added: 0,
      duplicates: [{ name: named('PyPI', 'alice'), line: null, sameAs: { in: 'vault', name: named('PyPI', 'alice') } }],
      conflicts: [],
      errors: [],
      backup: { lastAt: null, accountsSince: 1, accounts: 1 },
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

  it('refuses a backup cut short (its first 60 %), with or without a passphrase, and imports nothing', async () => {
    const source = await withAccount();
    const exported = await source.service.handle({ type: 'export' });
    if (!exported.ok) throw new Error(exported.error);
    const truncated = exported.text.slice(0, Math.floor(exported.text.length * 0.6));

    const target = setup();
    await target.service.handle({ type: 'create', passphrase: PASS });
    const writes = target.storage.mutations;
    for (const passphrase of [undefined, PASS]) {
      expect(await target.service.handle({ type: 'import', text: truncated, origin: 'https://pypi.org', ...(passphrase ? { passphrase } : {}) })).toEqual({
        ok: false,
        error: 'This file looks like a Latchkey backup but is damaged or incomplete (it is not valid JSON). Nothing was imported.',
      });
    }
    expect(target.storage.mutations).toBe(writes);
    const codes = await target.service.handle({ type: 'codes' });
    expect(codes.ok && codes.accounts).toEqual([]);
  });

  it.each([['[]'], ['{"accounts": [{"label": "alice", "secret": "JBSWY3DPEHPK3PXP"}]}'], ['\n  {"format": "another-app-backup", "record": "{}"}\n']])(
    'refuses JSON that is not a Latchkey backup (%s) instead of reading it as links',
    async (text) => {
      const { service, storage } = await withAccount();
      const writes = storage.mutations;
      expect(await service.handle({ type: 'import', text, origin: 'https://pypi.org' })).toEqual({
        ok: false,
        error: 'This is not a Latchkey backup or a list of otpauth:// links. Nothing was imported.',
      });
      expect(storage.mutations).toBe(writes);
    },
  );
});
