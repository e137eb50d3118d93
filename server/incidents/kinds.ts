/** Every kind of incident: what detection finds about keys, and what budgets raise. */
import type { Severity } from '../db/schema/incidents.ts';
export const SECURITY_KINDS = [
  'credit_spike',
  'sustained_elevation',
  'off_hours',
  'dormant_wake',
  'revoked_use',
  'auth_failures',
  'discovered_key',
  'new_source',
  'operation_mix',
  'unattributed_spend',
  'client_exposure',
] as const;
export type SecurityKind = (typeof SECURITY_KINDS)[number];

/** What detection finds: the security kinds, and a production key's usage dropping (billing's news). */
export const DETECTED_KINDS = [...SECURITY_KINDS, 'usage_drop'] as const;

export const BUDGET_KINDS = ['budget_threshold', 'budget_forecast'] as const;
export const INCIDENT_KINDS = [...DETECTED_KINDS, ...BUDGET_KINDS] as const;

/** Kinds for billing owners rather than on-call: budgets, and usage that stopped or fell away. */
export const BILLING_KINDS = ['usage_drop', ...BUDGET_KINDS] as const;

/** Security kinds go to on-call; anything not a billing kind counts as one. */
export const isSecurityKind = (kind: string) => !(BILLING_KINDS as readonly string[]).includes(kind);

export { SEVERITIES, type Severity } from '../db/schema/incidents.ts';
export const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

export const maxSeverity = (a: Severity, b: Severity): Severity =>
  SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
