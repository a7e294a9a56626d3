import { describe, expect, it } from 'vitest';
import { emptyPayload, parsePayload } from './payload.js';

describe('parsePayload', () => {
  it('reads a vault written before backups were tracked as never backed up, and keeps a real time', () => {
    const { lastBackupAt: _, ...older } = emptyPayload();
    expect(parsePayload(older).lastBackupAt).toBeNull();
    expect(parsePayload({ ...older, lastBackupAt: 1_700_000_000_000 }).lastBackupAt).toBe(1_700_000_000_000);
    for (const odd of ['1700000000000', 1.5, -Infinity, null, {}]) expect(parsePayload({ ...older, lastBackupAt: odd }).lastBackupAt).toBeNull();
  });

  it('refuses contents in no known format', () => {
    expect(() => parsePayload({ accounts: {} })).toThrow('not in a known format');
  });
});
