import { describe, expect, it } from 'vitest';
import { describeImportSkip } from './describe-import-skip.js';

describe('describeImportSkip', () => {
  it('names the vault account a line matched, under the vault’s own name', () => {
    expect(describeImportSkip({ name: 'PyPI: alice', line: 3, sameAs: { in: 'vault', name: 'PyPI: alice' } }, 'duplicate')).toBe(
      'Line 3: “PyPI: alice”, already in the vault',
    );
    expect(describeImportSkip({ name: 'Work: alice', line: 7, sameAs: { in: 'vault', name: 'PyPI: alice' } }, 'duplicate')).toBe(
      'Line 7: “Work: alice”, the same account as “PyPI: alice” already in the vault',
    );
  });

  it('says a repeat inside the file is one, with the line it repeats', () => {
    expect(describeImportSkip({ name: 'GitHub: bob', line: 9, sameAs: { in: 'file', name: 'GitHub: bob', line: 2 } }, 'duplicate')).toBe(
      'Line 9: “GitHub: bob”, repeats line 2 of this file',
    );
    expect(describeImportSkip({ name: 'Mirror: bob', line: 5, sameAs: { in: 'file', name: 'GitHub: bob', line: 2 } }, 'duplicate')).toBe(
      'Line 5: “Mirror: bob”, repeats line 2 (“GitHub: bob”) of this file',
    );
  });

  it('names a backup’s accounts without lines', () => {
    expect(describeImportSkip({ name: 'PyPI: alice', line: null, sameAs: { in: 'vault', name: 'PyPI: alice' } }, 'duplicate')).toBe(
      '“PyPI: alice”, already in the vault',
    );
    expect(describeImportSkip({ name: 'B: x', line: null, sameAs: { in: 'file', name: 'A: x', line: null } }, 'duplicate')).toBe(
      '“B: x”, repeats “A: x” earlier in this backup',
    );
  });

  it('says a name clash is another secret, never the same account', () => {
    expect(describeImportSkip({ name: 'PyPI: alice', line: 4, sameAs: { in: 'vault', name: 'PyPI: Alice' } }, 'conflict')).toBe(
      'Line 4: “PyPI: alice”, a different secret from “PyPI: Alice” already in the vault',
    );
    expect(describeImportSkip({ name: 'GitHub: BOB', line: 7, sameAs: { in: 'file', name: 'GitHub: bob', line: 2 } }, 'conflict')).toBe(
      'Line 7: “GitHub: BOB”, a different secret from line 2 (“GitHub: bob”) of this file',
    );
  });
});
