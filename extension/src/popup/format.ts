/** "123456" → "123 456", "12345678" → "1234 5678", "1234567" → "123 4567": easier to read and type. */
export function groupDigits(code: string): string {
  const half = Math.floor(code.length / 2);
  return `${code.slice(0, half)} ${code.slice(half)}`;
}

/** "https://pypi.org" → "pypi.org"; keeps scheme and port when they are not the https default. */
export function displayOrigin(origin: string): string {
  return origin.startsWith('https://') ? origin.slice('https://'.length) : origin;
}

/** Seconds left in the current TOTP period. */
export function secondsLeft(period: number, now: number): number {
  return period - (Math.floor(now / 1000) % period);
}
