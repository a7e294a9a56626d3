import { describe, expect, it } from 'vitest';
import { named, PASS, SECRET, setup, withAccount } from '../service-setup.test-helper.js';

describe('add-account', () => {
  it('adds by typed fields for a canonical origin', async () => {
    const { service } = await withAccount();
    expect(
      await service.handle({
        type: 'add-account',
        account: { issuer: 'Test PyPI', label: 'bob', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', origin: 'https://test.pypi.org/account/' },
      }),
    ).toMatchObject({
      ok: true,
      account: { issuer: 'Test PyPI', label: 'bob', origin: 'https://test.pypi.org' },
    });
  });

  it("a link far over the length limit gets the link's own message, not a generic refusal (QA)", async () => {
    const { service } = await withAccount();
    const uri = `otpauth://totp/PyPI:bob?secret=${SECRET}&issuer=${'x'.repeat(5_000)}`;
    expect(await service.handle({ type: 'add-account', account: { uri, origin: 'https://pypi.org' } })).toMatchObject({
      ok: false,
      error: 'The link is too long.',
      code: 'invalid-input',
    });
  });

  it('refuses duplicates and bad input with clear messages', async () => {
    const { service } = await withAccount();
    expect(
      await service.handle({ type: 'add-account', account: { uri: `otpauth://totp/PyPI:alice?secret=${SECRET}`, origin: 'https://pypi.org' } }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/already in Latchkey/) });
    expect(await service.handle({ type: 'add-account', account: { label: 'bob', secret: 'not base32!', origin: 'https://pypi.org' } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/base32/),
    });
    expect(await service.handle({ type: 'add-account', account: { label: 'bob', secret: SECRET, origin: 'example.com' } })).toMatchObject({
      ok: false,
      error: 'Did you mean https://example.com? Type the address with its scheme.',
    });
    expect(await service.handle({ type: 'add-account', account: { label: 'bob', secret: SECRET, origin: 'http://example.com' } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/https/),
    });
  });

  it('names the account already there as the vault has it, not as typed now: the same secret stored under another name', async () => {
    const { service } = await withAccount(); // PyPI: alice
    // "This account is already in Latchkey (PyPI: alice)" named another account than the one added (QA).
    const sameSecret = { ok: false, error: `This secret is already in Latchkey for https://pypi.org, stored as ${named('PyPI', 'alice')}.` };
    expect(await service.handle({ type: 'add-account', account: { issuer: 'Work', label: 'me', secret: SECRET, origin: 'https://pypi.org' } })).toMatchObject(
      sameSecret,
    );
    expect(
      await service.handle({ type: 'add-account', account: { uri: `otpauth://totp/Example:hank?secret=${SECRET}`, origin: 'https://pypi.org' } }),
    ).toMatchObject(sameSecret);
  });

  it('stores one form of a key whether it is typed or pasted, so the second is a duplicate', async () => {
    const typed = { issuer: 'PyPI', label: 'alice', secret: 'jbsw y3dp ehpk 3pxp a', origin: 'https://pypi.org' };
    const pasted = { uri: `otpauth://totp/PyPI:alice?secret=${SECRET}&issuer=PyPI`, origin: 'https://pypi.org' };
    const duplicate = { ok: false, error: `This account is already in Latchkey (${named('PyPI', 'alice')}).` };
    const first = await withAccount(); // pasted
    expect(await first.service.handle({ type: 'add-account', account: typed })).toMatchObject(duplicate);

    const second = setup();
    await second.service.handle({ type: 'create', passphrase: PASS });
    expect(await second.service.handle({ type: 'add-account', account: typed })).toMatchObject({ ok: true });
    expect(await second.service.handle({ type: 'add-account', account: pasted })).toMatchObject(duplicate);
  });
});
