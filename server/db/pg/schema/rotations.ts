/** pg mirror of schema/rotations.ts. */
import { bigint, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { keys } from './keys.ts';

export const keyRotations = pgTable(
  'key_rotations',
  {
    oldKeyId: text('old_key_id')
      .primaryKey()
      .references(() => keys.id, { onDelete: 'cascade' }),
    newKeyId: text('new_key_id')
      .notNull()
      .references(() => keys.id, { onDelete: 'cascade' }),
    quietMinutes: integer('quiet_minutes').notNull().default(1440),
    startedAt: bigint('started_at', { mode: 'number' }).notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('key_rotations_new_key_idx').on(t.newKeyId)],
);
