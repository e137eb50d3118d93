/** Who is calling and what they may do, whether a dashboard user or an API token. */
import type { Role, Scope } from '../db/schema/index.ts';

export type Principal = {
  /** Written to the audit log: "user:<email>" or "token:<name>". */
  actor: string;
  kind: 'user' | 'token';
  scopes: ReadonlySet<Scope>;
  userId?: number;
  /** Set for an API token (names need not be unique; ids are). */
  tokenId?: number;
  role?: Role;
};

/** `admin` implies every scope; a viewer reads only. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has('admin') || principal.scopes.has(scope);
}

export function scopesForRole(role: Role): Set<Scope> {
  return role === 'admin' ? new Set<Scope>(['admin', 'read', 'ingest']) : new Set<Scope>(['read']);
}

/** One caller across requests, for per-caller limits: a user or a token, by id. */
export function callerOf(p: Principal): string {
  return p.userId !== undefined ? `user:${p.userId}` : `token:${p.tokenId ?? p.actor}`;
}
