/** Shapes of GET /api/v1/usage and /api/v1/keys/:id/usage. */
export type UsagePoint = {
  ts: string;
  credits: number;
  requests: number;
  errors: number;
  auth_failures: number;
};
export type UsageGroups = {
  from: string;
  to: string;
  step: string;
  points: UsagePoint[];
  group?: string;
  groups: { group: string; key_id?: string; credits: number; requests: number; points: UsagePoint[] }[];
};
export type KeyUsage = { from: string; to: string; step: string; points: UsagePoint[] };
