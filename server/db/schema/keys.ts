/** API keys of the watched provider: registered by people or discovered in traffic. */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const KEY_STATUSES = ['active', 'revoked', 'discovered'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export const keys = sqliteTable(
  'keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull().unique(),
    provider: text('provider').notNull().default('magichour'),
    /** "sha256:<hex>" HMAC of the secret under the server secret; the secret itself is never stored. */
    fingerprint: text('fingerprint').unique(),
    last4: text('last4'),
    environment: text('environment'),
    owner: text('owner'),
    status: text('status', { enum: KEY_STATUSES }).notNull().default('active'),
    /** Monthly credit budget for this key, null when none. */
    budgetCredits: real('budget_credits'),
    notes: text('notes'),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
    firstSeenAt: integer('first_seen_at'),
    lastUsedAt: integer('last_used_at'),
    /** The zone this key's hours are judged in, when it serves another region than KEYWATCH_TZ. */
    timeZone: text('time_zone'),
    /** For keys discovered at the gateway: the client network they first came from (IPv4 /24, IPv6 /64). */
    discoveredNetwork: text('discovered_network'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('keys_status_idx').on(t.status),
    index('keys_discovered_network_idx').on(t.discoveredNetwork, t.createdAt),
  ],
);

export type KeyRow = typeof keys.$inferSelect;
