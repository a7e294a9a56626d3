import { createPublicKey } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { decodeCBOR } from '@levischuck/tiny-cbor';
import { describe, expect, it } from 'vitest';
import { softAuthenticator } from './soft-authenticator.js';

const origin = 'http://localhost:8080';
const rpID = 'localhost';

async function registered(authenticator = softAuthenticator()) {
  const options = await generateRegistrationOptions({
    rpName: 'Latchkey',
    rpID,
    userName: 'alice',
    attestationType: 'none',
    authenticatorSelection: { userVerification: 'preferred', residentKey: 'discouraged' },
  });
  const response = authenticator.createRegistrationResponse(options, { origin });
  const verification = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: false,
  });
  if (!verification.verified) throw new Error('registration did not verify');
  return { authenticator, options, response, credential: verification.registrationInfo.credential, verification };
}

async function assertion(
  authenticator: ReturnType<typeof softAuthenticator>,
  credential: WebAuthnCredential,
  context: { origin?: string; signCount?: number } = {},
) {
  const options = await generateAuthenticationOptions({
    rpID,
    allowCredentials: [{ id: credential.id }],
    userVerification: 'preferred',
  });
  const response = authenticator.createAuthenticationResponse(options, {
    origin: context.origin ?? origin,
    ...(context.signCount === undefined ? {} : { signCount: context.signCount }),
  });
  return { options, response };
}

describe('softAuthenticator', () => {
  it('produces a registration response that @simplewebauthn/server verifies (attestation none, ES256)', async () => {
    const { response, credential, verification, options, authenticator } = await registered();
    expect(verification.registrationInfo.fmt).toBe('none');
    expect(verification.registrationInfo.userVerified).toBe(true);
    expect(verification.registrationInfo.origin).toBe(origin);
    expect(credential.id).toBe(response.id);
    expect(credential.counter).toBe(0);
    expect(response.response.transports).toEqual(['usb']);
    // The public key the server extracted from the CBOR attestation object is the SPKI key we reported.
    expect(createPublicKey({ key: Buffer.from(response.response.publicKey!, 'base64url'), format: 'der', type: 'spki' }).asymmetricKeyType).toBe('ec');
    expect(authenticator.credentials[0]?.userHandle).toBe(options.user.id);
    // Copy into a fresh Uint8Array: tiny-cbor's decoder reads the whole underlying ArrayBuffer, ignoring a Buffer's pool offset.
    const attestation = decodeCBOR(new Uint8Array(Buffer.from(response.response.attestationObject, 'base64url'))) as Map<string, unknown>;
    expect([...attestation.keys()]).toEqual(['fmt', 'attStmt', 'authData']);
  });

  it('produces assertions that verify, with a counter that advances by one', async () => {
    const { authenticator, credential } = await registered();
    let stored = credential;
    for (const expected of [1, 2, 3]) {
      const { options, response } = await assertion(authenticator, stored);
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: stored,
      });
      expect(result.verified).toBe(true);
      expect(result.authenticationInfo.newCounter).toBe(expected);
      stored = { ...stored, counter: result.authenticationInfo.newCounter };
    }
    expect(authenticator.createAuthenticationResponse(await generateAuthenticationOptions({ rpID }), { origin }).response.userHandle).toBe(
      authenticator.credentials[0]?.userHandle,
    );
  });

  it('lets a test report a lower signCount, which the verifier refuses as a possible clone', async () => {
    const { authenticator, credential } = await registered();
    const { options, response } = await assertion(authenticator, { ...credential, counter: 10 }, { signCount: 4 });
    await expect(
      verifyAuthenticationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: { ...credential, counter: 10 },
      }),
    ).rejects.toThrow(/counter/i);
  });

  it('is refused by the verifier for another origin, another challenge or a tampered signature', async () => {
    const { authenticator, credential } = await registered();
    const phishing = await assertion(authenticator, credential, { origin: 'http://latchkey.example.com' });
    await expect(
      verifyAuthenticationResponse({
        response: phishing.response,
        expectedChallenge: phishing.options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential,
      }),
    ).rejects.toThrow(/origin/i);

    const replayed = await assertion(authenticator, credential);
    await expect(
      verifyAuthenticationResponse({
        response: replayed.response,
        expectedChallenge: 'a-different-challenge',
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential,
      }),
    ).rejects.toThrow(/challenge/i);

    const tampered = await assertion(authenticator, credential);
    const signature = Buffer.from(tampered.response.response.signature, 'base64url');
    signature[signature.length - 1]! ^= 0x01;
    const result = await verifyAuthenticationResponse({
      response: { ...tampered.response, response: { ...tampered.response.response, signature: signature.toString('base64url') } },
      expectedChallenge: tampered.options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential,
    }).catch((error: unknown) => error);
    // A flipped bit either breaks the DER structure (throws) or the ECDSA check (verified: false).
    expect(result instanceof Error || (result as { verified: boolean }).verified === false).toBe(true);
  });

  it('reports UV=0 when built without user verification, which required-UV verification refuses', async () => {
    const { authenticator, credential } = await registered(softAuthenticator({ userVerified: false }));
    const { options, response } = await assertion(authenticator, credential);
    await expect(
      verifyAuthenticationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential,
        requireUserVerification: true,
      }),
    ).rejects.toThrow(/verif/i);
  });

  it("keeps a zero counter in 'zero' mode, as synced passkeys do", async () => {
    const { authenticator, credential } = await registered(softAuthenticator({ counter: 'zero' }));
    const { options, response } = await assertion(authenticator, credential);
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential,
    });
    expect(result.authenticationInfo.newCounter).toBe(0);
  });

  it('behaves like a real authenticator on excluded, unknown and unsupported credentials', async () => {
    const { authenticator, response } = await registered();
    const again = await generateRegistrationOptions({
      rpName: 'Latchkey',
      rpID,
      userName: 'alice',
      excludeCredentials: [{ id: response.id }],
    });
    expect(() => authenticator.createRegistrationResponse(again, { origin })).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));

    const forSomeoneElse = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: 'AAAA' }] });
    expect(() => authenticator.createAuthenticationResponse(forSomeoneElse, { origin })).toThrow(expect.objectContaining({ name: 'NotAllowedError' }));

    const otherRp = await generateAuthenticationOptions({ rpID: 'example.com' });
    expect(() => authenticator.createAuthenticationResponse(otherRp, { origin })).toThrow(expect.objectContaining({ name: 'NotAllowedError' }));

    const rsaOnly = await generateRegistrationOptions({ rpName: 'Latchkey', rpID, userName: 'bob', supportedAlgorithmIDs: [-257] });
    expect(() => softAuthenticator().createRegistrationResponse(rsaOnly, { origin })).toThrow(expect.objectContaining({ name: 'NotSupportedError' }));

    expect(() => softAuthenticator().createRegistrationResponse(again, { origin: 'http://localhost:8080/path' })).toThrow(/bare origin/);
  });
});
