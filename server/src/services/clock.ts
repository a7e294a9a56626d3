/** Milliseconds since the epoch; injectable so tests can move time (token expiry, TOTP steps, windows). */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
