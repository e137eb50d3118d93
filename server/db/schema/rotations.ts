/** Key rotations: an old key paired with its replacement while clients move over. */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { keys } from './keys.ts';

export const keyRotations = sqliteTable(
  'key_rotations',
  {
    /** One rotation per old key: pairing it again replaces the pairing. */
    oldKeyId: text('old_key_id')
      .primaryKey()
      .references(() => keys.id, { onDelete: 'cascade' }),
    newKeyId: text('new_key_id')
      .notNull()
      .references(() => keys.id, { onDelete: 'cascade' }),
    /** The old key counts as safe to revoke after this many minutes without any use. */
    quietMinutes: integer('quiet_minutes').notNull().default(1440),
    /** From here on the old key's fading usage is expected: no usage_drop is raised for it. */
    startedAt: integer('started_at').notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('key_rotations_new_key_idx').on(t.newKeyId)],
);

export type KeyRotationRow = typeof keyRotations.$inferSelect;
