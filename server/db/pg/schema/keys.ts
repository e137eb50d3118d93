/** pg mirror of schema/keys.ts. */
import { bigint, doublePrecision, index, pgTable, text } from 'drizzle-orm/pg-core';
import { KEY_STATUSES } from '../../schema/keys.ts';

export const keys = pgTable(
  'keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull().unique(),
    provider: text('provider').notNull().default('magichour'),
    fingerprint: text('fingerprint').unique(),
    last4: text('last4'),
    environment: text('environment'),
    owner: text('owner'),
    status: text('status', { enum: KEY_STATUSES }).notNull().default('active'),
    budgetCredits: doublePrecision('budget_credits'),
    notes: text('notes'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
    firstSeenAt: bigint('first_seen_at', { mode: 'number' }),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }),
    timeZone: text('time_zone'),
    discoveredNetwork: text('discovered_network'),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('keys_status_idx').on(t.status),
    index('keys_discovered_network_idx').on(t.discoveredNetwork, t.createdAt),
  ],
);
