import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeCBOR, type CBORType } from '@levischuck/tiny-cbor';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/** COSE algorithm identifier of ES256 (ECDSA P-256 with SHA-256), RFC 9053 section 2.1. */
const COSE_ALG_ES256 = -7;

/** Authenticator-data flag bits, WebAuthn Level 3 section 6.1. */
const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_ATTESTED_CREDENTIAL_DATA = 0x40;

/** One credential held by a {@link SoftAuthenticator}. */
export interface SoftCredential {
  /** Credential id, base64url (what the server stores as `credential_id`). */
  readonly id: string;
  /** The relying party this credential is scoped to. */
  readonly rpId: string;
  /** `user.id` from the creation options (base64url), returned as `userHandle` on assertion. */
  readonly userHandle: string;
  /** Signature counter; the next assertion reports `signCount + 1` unless overridden. */
  signCount: number;
  /** The private key; kept here so tests can clone a credential (to simulate a cloned key). */
  readonly privateKey: KeyObject;
}

export interface SoftAuthenticatorOptions {
  /**
   * Report user verification (UV flag) in every response. Default `true`, like a key with a PIN
   * that the user just entered; set `false` to test `userVerification: 'required'` refusals.
   */
  userVerified?: boolean;
  /**
   * How the signature counter moves. `'increment'` (default) adds 1 per assertion, like most
   * security keys; `'zero'` always reports 0, like passkeys synced by a platform.
   */
  counter?: 'increment' | 'zero';
  /** AAGUID reported at registration (16 bytes). Default all zero, as with attestation `none`. */
  aaguid?: Uint8Array;
  /** Transports reported at registration. Default `['usb']`. */
  transports?: AuthenticatorTransport[];
}

export interface RegistrationContext {
  /** The page's origin, e.g. `http://localhost:8080` (goes into clientDataJSON). */
  origin: string;
}

export interface AuthenticationContext {
  /** The page's origin, e.g. `http://localhost:8080` (goes into clientDataJSON). */
  origin: string;
  /**
   * Report exactly this signature counter (and remember it) instead of advancing the counter —
   * e.g. a value lower than the stored one to test that a cloned key is refused.
   */
  signCount?: number;
  /** Use this credential (base64url id) even if several in `allowCredentials` would match. */
  credentialId?: string;
}

/** A software FIDO2 authenticator for Node tests and benchmarks. Create one with {@link softAuthenticator}. */
export interface SoftAuthenticator {
  /** Every credential created so far, in creation order. */
  readonly credentials: readonly SoftCredential[];
  /**
   * Answers `navigator.credentials.create()` for creation options (as JSON, e.g. from
   * `/manage/account/webauthn-provision/options`): a new ES256 credential with attestation `none`.
   * Throws like a real authenticator would: `InvalidStateError` when it already holds one of
   * `excludeCredentials`, `NotSupportedError` when ES256 is not among `pubKeyCredParams`.
   */
  createRegistrationResponse(options: PublicKeyCredentialCreationOptionsJSON, context: RegistrationContext): RegistrationResponseJSON;
  /**
   * Answers `navigator.credentials.get()` for request options (as JSON, e.g. from
   * `/account/webauthn-authenticate/options`). Throws `NotAllowedError` when it holds no
   * credential for the RP among `allowCredentials` (or none at all for a discoverable request).
   */
  createAuthenticationResponse(options: PublicKeyCredentialRequestOptionsJSON, context: AuthenticationContext): AuthenticationResponseJSON;
}

/** Error shaped like the DOMException a browser raises, so tests can assert on `name`. */
export class SoftAuthenticatorError extends Error {
  constructor(
    override readonly name: 'InvalidStateError' | 'NotSupportedError' | 'NotAllowedError' | 'TypeError',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Creates a software security key: real ES256 keys (node:crypto), real CBOR, real signatures —
 * the responses pass `@simplewebauthn/server`'s `verifyRegistrationResponse` and
 * `verifyAuthenticationResponse` exactly like a hardware key's would. Use it where no browser is
 * involved (HTTP-level tests, benchmarks, reliability suites); in a browser use
 * `addVirtualAuthenticator`. Responses are built synchronously (one ECDSA signature each).
 *
 * @example
 * ```ts
 * import { ROUTES, softAuthenticator, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON } from '@latchkey/test';
 * const key = softAuthenticator();
 * // A logged-in `client` (createSessionClient). Its page first: a login renews the session, and with it the
 * // csrf_token that postJson sends; the one from the login pages would be refused (403).
 * await client.get(ROUTES.webauthnProvision);
 * // `postJson` answers a SessionResponse: the ceremony options are its JSON body.
 * const creation = (await client.postJson(ROUTES.webauthnProvisionOptions, {})).json<PublicKeyCredentialCreationOptionsJSON>();
 * const credential = key.createRegistrationResponse(creation, { origin: server.url });
 * await client.postJson(ROUTES.webauthnProvisionValidate, { credential, label: 'Desk key' });
 * // … later, logging in: the two-factor step's token is in the password step's redirect.
 * const login = await client.submit(ROUTES.login, { username, password });
 * const token = new URL(login.location!).searchParams.get('token');
 * const request = (await client.postJson(`${ROUTES.webauthnAuthenticateOptions}?token=${token}`, {})).json<PublicKeyCredentialRequestOptionsJSON>();
 * const assertion = key.createAuthenticationResponse(request, { origin: server.url });
 * await client.postJson(`${ROUTES.webauthnAuthenticateValidate}?token=${token}`, { credential: assertion });
 * ```
 */
export function softAuthenticator(options: SoftAuthenticatorOptions = {}): SoftAuthenticator {
  const userVerified = options.userVerified ?? true;
  const counter = options.counter ?? 'increment';
  const aaguid = options.aaguid ?? new Uint8Array(16);
  if (aaguid.length !== 16) throw new TypeError(`softAuthenticator: aaguid must be 16 bytes, got ${aaguid.length}`);
  const transports = options.transports ?? ['usb'];
  const credentials: SoftCredential[] = [];

  return {
    credentials,

    createRegistrationResponse(creation, { origin }) {
      requireOrigin(origin);
      if (typeof creation?.challenge !== 'string' || creation.challenge === '') {
        throw new SoftAuthenticatorError('TypeError', 'creation options have no challenge');
      }
      if (!creation.pubKeyCredParams?.some((param) => param.type === 'public-key' && param.alg === COSE_ALG_ES256)) {
        throw new SoftAuthenticatorError('NotSupportedError', 'the options do not allow ES256 (alg -7)');
      }
      const rpId = creation.rp?.id ?? new URL(origin).hostname;
      const excluded = new Set((creation.excludeCredentials ?? []).map((descriptor) => descriptor.id));
      if (credentials.some((held) => held.rpId === rpId && excluded.has(held.id))) {
        throw new SoftAuthenticatorError('InvalidStateError', 'this authenticator is already registered for the account');
      }

      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const rawId = randomBytes(32);
      const credential: SoftCredential = {
        id: toBase64Url(rawId),
        rpId,
        userHandle: creation.user.id,
        signCount: 0,
        privateKey,
      };

      const clientDataJSON = clientData('webauthn.create', creation.challenge, origin);
      const authenticatorData = concat(
        sha256(rpId),
        Uint8Array.of(FLAG_USER_PRESENT | (userVerified ? FLAG_USER_VERIFIED : 0) | FLAG_ATTESTED_CREDENTIAL_DATA),
        uint32(0),
        aaguid,
        uint16(rawId.length),
        rawId,
        coseEs256PublicKey(publicKey),
      );
      const attestationObject = encodeCBOR(
        new Map<string, CBORType>([
          ['fmt', 'none'],
          ['attStmt', new Map<string, CBORType>()],
          ['authData', authenticatorData],
        ]),
      );
      credentials.push(credential);

      return {
        id: credential.id,
        rawId: credential.id,
        type: 'public-key',
        authenticatorAttachment: 'cross-platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: toBase64Url(clientDataJSON),
          attestationObject: toBase64Url(attestationObject),
          authenticatorData: toBase64Url(authenticatorData),
          transports,
          publicKeyAlgorithm: COSE_ALG_ES256,
          publicKey: toBase64Url(publicKey.export({ type: 'spki', format: 'der' })),
        },
      };
    },

    createAuthenticationResponse(request, { origin, signCount, credentialId }) {
      requireOrigin(origin);
      if (typeof request?.challenge !== 'string' || request.challenge === '') {
        throw new SoftAuthenticatorError('TypeError', 'request options have no challenge');
      }
      const rpId = request.rpId ?? new URL(origin).hostname;
      const allowed = request.allowCredentials?.length ? new Set(request.allowCredentials.map((d) => d.id)) : undefined;
      const candidates = credentials.filter((held) => held.rpId === rpId && (allowed === undefined || allowed.has(held.id)));
      const credential = credentialId === undefined ? candidates[0] : candidates.find((held) => held.id === credentialId);
      if (credential === undefined) {
        throw new SoftAuthenticatorError('NotAllowedError', `this authenticator holds no matching credential for ${rpId}`);
      }

      if (signCount !== undefined) {
        if (!Number.isInteger(signCount) || signCount < 0 || signCount > 0xffffffff) {
          throw new TypeError(`signCount must be an integer in 0..2^32-1, got ${signCount}`);
        }
        credential.signCount = signCount;
      } else if (counter === 'increment') {
        credential.signCount += 1;
      }

      const clientDataJSON = clientData('webauthn.get', request.challenge, origin);
      const authenticatorData = concat(sha256(rpId), Uint8Array.of(FLAG_USER_PRESENT | (userVerified ? FLAG_USER_VERIFIED : 0)), uint32(credential.signCount));
      // WebAuthn section 6.3.3 step 11: the signature covers authenticatorData || SHA-256(clientDataJSON);
      // ECDSA signatures are DER-encoded (node:crypto's default for EC keys).
      const signature = sign('sha256', concat(authenticatorData, sha256(clientDataJSON)), credential.privateKey);

      return {
        id: credential.id,
        rawId: credential.id,
        type: 'public-key',
        authenticatorAttachment: 'cross-platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: toBase64Url(clientDataJSON),
          authenticatorData: toBase64Url(authenticatorData),
          signature: toBase64Url(signature),
          userHandle: credential.userHandle,
        },
      };
    },
  };
}

function requireOrigin(origin: string): void {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    throw new TypeError(`origin must be an absolute URL like http://localhost:8080, got ${JSON.stringify(origin)}`);
  }
  if (parsed.origin !== origin) {
    throw new TypeError(`origin must be a bare origin (scheme://host[:port]), got ${JSON.stringify(origin)}; use ${parsed.origin}`);
  }
}

function clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

/** COSE_Key for an EC2 P-256 public key (RFC 9053 section 7.1): kty 2, alg -7, crv 1, x, y. */
function coseEs256PublicKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.x === undefined || jwk.y === undefined) throw new Error('P-256 public key without coordinates');
  return encodeCBOR(
    new Map<number, CBORType>([
      [1, 2],
      [3, COSE_ALG_ES256],
      [-1, 1],
      [-2, Buffer.from(jwk.x, 'base64url')],
      [-3, Buffer.from(jwk.y, 'base64url')],
    ]),
  );
}

function sha256(data: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

function uint16(value: number): Uint8Array {
  const bytes = new Uint8Array(2);
  new DataView(bytes.buffer).setUint16(0, value);
  return bytes;
}

function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
