/** Top contributors of an incident window: operations, source IPs, user agents and hours. */
import { HOUR } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { iso } from '../timestamps.ts';

export type Contributors = {
  operations: { name: string; credits: number; requests: number }[];
  ips: { value: string; requests: number }[];
  user_agents: { value: string; requests: number }[];
  hours: { hour: string; credits: number }[];
};

const TOP = 5;

export function findContributors(sqlite: Sqlite, keyId: string, from: number, to: number): Contributors {
  const range = { key: keyId, from, to };
  const operations = statement<typeof range, { name: string; credits: number; requests: number }>(
    sqlite,
    `SELECT operation AS name, sum(credits) AS credits, sum(requests) AS requests FROM usage_minute
       WHERE key_id = @key AND bucket >= @from AND bucket < @to GROUP BY operation ORDER BY credits DESC, requests DESC LIMIT ${TOP}`,
  ).all(range);
  const top = (column: string) =>
    statement<typeof range, { value: string; requests: number }>(
      sqlite,
      `SELECT ${column} AS value, sum(requests) AS requests FROM usage_events
         WHERE key_id = @key AND ts >= @from AND ts < @to AND ${column} IS NOT NULL
         GROUP BY ${column} ORDER BY requests DESC, value LIMIT ${TOP}`,
    ).all(range);
  const hours = statement<typeof range, { hour: number; credits: number }>(
    sqlite,
    `SELECT (bucket / ${HOUR}) * ${HOUR} AS hour, sum(credits) AS credits FROM usage_minute
       WHERE key_id = @key AND bucket >= @from AND bucket < @to GROUP BY hour ORDER BY credits DESC LIMIT ${TOP}`,
  ).all(range);
  return {
    operations,
    ips: top('source_ip'),
    user_agents: top('user_agent'),
    hours: hours.map((h) => ({ hour: iso(h.hour), credits: h.credits })),
  };
}
