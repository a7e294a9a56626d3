import { generateRegistrationOptions } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { type SavedCredential, virtualCredentialOf } from './add-virtual-authenticator.js';
import { type SoftAuthenticator, type SoftCredential, softAuthenticator } from './soft-authenticator.js';

async function oneCredential(): Promise<{ key: SoftAuthenticator; credential: SoftCredential }> {
  const key = softAuthenticator();
  const options = await generateRegistrationOptions({ rpName: 'Latchkey', rpID: 'localhost', userName: 'alice', attestationType: 'none' });
  key.createRegistrationResponse(options, { origin: 'http://localhost:8080' });
  return { key, credential: key.credentials[0]! };
}

describe('virtualCredentialOf (what importCredential hands to CDP)', () => {
  it('a soft credential: its id, user handle and PKCS#8 key in standard base64, its counter kept', async () => {
    const { credential } = await oneCredential();
    const virtual = virtualCredentialOf(credential);
    expect(virtual.credentialId).toBe(Buffer.from(credential.id, 'base64url').toString('base64'));
    expect(virtual.userHandle).toBe(Buffer.from(credential.userHandle, 'base64url').toString('base64'));
    expect(virtual.privateKey).toBe(credential.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'));
    expect(virtual).toMatchObject({ rpId: 'localhost', isResidentCredential: false, signCount: credential.signCount });
  });

  it('a saved credential (the dev seed): its counter starts at the clock when it has none', () => {
    const saved: SavedCredential = { credentialId: 'AAEC', rpId: 'localhost', userHandle: 'AwQF', privateKeyPkcs8: 'cGtjczg=' };
    const before = Math.floor(Date.now() / 1000);
    const virtual = virtualCredentialOf(saved);
    expect(virtual).toMatchObject({ credentialId: 'AAEC', userHandle: 'AwQF', privateKey: 'cGtjczg=', rpId: 'localhost' });
    expect(virtual.signCount).toBeGreaterThanOrEqual(before);
  });

  it('a whole soft authenticator (a createUserIn user’s securityKey) is refused, saying what to pass', async () => {
    const { key } = await oneCredential();
    expect(() => virtualCredentialOf(key as unknown as SoftCredential)).toThrow(
      "importCredential takes one credential, not a whole soft authenticator: a createUserIn user's `user.securityKey.credentials[0]`",
    );
    expect(() => virtualCredentialOf(undefined as unknown as SoftCredential)).toThrow(/^importCredential takes one credential: /);
  });
});
