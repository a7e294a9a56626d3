import type { Kysely } from 'kysely';

interface Before {
  webauthn_credentials: { id: number; user_id: string; label: string; label_key: string | null };
}

/**
 * Security-key labels are unique per account case-insensitively; until now only the code checked that,
 * so two concurrent registrations could both pass the check. `label_key` (the label as compared) gets a
 * unique index: the database now refuses the loser of that race. Rows that already collide keep the
 * oldest label and get " (2)", " (3)"… appended, so the index can be built on any existing database.
 */
export async function up(db: Kysely<Before>): Promise<void> {
  await db.schema.alterTable('webauthn_credentials').addColumn('label_key', 'text').execute();
  const rows = await db.selectFrom('webauthn_credentials').select(['id', 'user_id', 'label']).orderBy('id').execute();
  const taken = new Set<string>();
  for (const row of rows) {
    let label = row.label;
    for (let n = 2; taken.has(`${row.user_id}\n${keyLabelKey(label)}`); n++) label = `${row.label} (${n})`;
    taken.add(`${row.user_id}\n${keyLabelKey(label)}`);
    await db
      .updateTable('webauthn_credentials')
      .set({ label, label_key: keyLabelKey(label) })
      .where('id', '=', row.id)
      .execute();
  }
  await db.schema.createIndex('webauthn_credentials_user_label_key').unique().on('webauthn_credentials').columns(['user_id', 'label_key']).execute();
}

/**
 * services/webauthn-key-label.ts `keyLabelKey` as it was when 003 shipped: a migration is frozen, so a later
 * change to that rule cannot change what 003 writes (migrations-frozen.test.ts).
 */
function keyLabelKey(label: string): string {
  return label.toLocaleLowerCase('en');
}

export async function down(db: Kysely<Before>): Promise<void> {
  await db.schema.dropIndex('webauthn_credentials_user_label_key').ifExists().execute();
  await db.schema.alterTable('webauthn_credentials').dropColumn('label_key').execute();
}
