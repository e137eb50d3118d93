/** Dashboard users, their sessions, and API tokens. Secrets are stored only as hashes. */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  email: text('email').notNull().unique(),
  /** scrypt$N$r$p$salt$hash */
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ROLES }).notNull(),
  createdAt: integer('created_at').notNull(),
  lastLoginAt: integer('last_login_at'),
  disabledAt: integer('disabled_at'),
});

export const sessions = sqliteTable(
  'sessions',
  {
    /** sha256 of the cookie value. */
    idHash: text('id_hash').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  /** sha256 hex of the token. */
  tokenHash: text('token_hash').notNull().unique(),
  last4: text('last4').notNull(),
  /** Comma-separated scopes. */
  scopes: text('scopes').notNull(),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  lastUsedAt: integer('last_used_at'),
  revokedAt: integer('revoked_at'),
});

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ts: integer('ts').notNull(),
    /** "user:<email>", "token:<name>", "cli", "system" */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    /** JSON object with the details; never a secret. */
    details: text('details'),
  },
  (t) => [index('audit_log_ts_idx').on(t.ts)],
);
