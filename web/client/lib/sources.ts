/** Source health from GET /api/v1/sources, replacing the server's fallback table when it answers. */
import { api, badge, el, fmtNumber, table, timeEl } from './common.ts';

type Source = {
  name: string;
  status: 'ok' | 'stale' | 'error' | 'disabled' | 'never';
  last_event_at: string | null;
  events_last_hour: number;
  errors_last_hour: number;
  detail: string | null;
};
type Sources = { sources: Source[]; gateway_queue?: { size: number; capacity: number; dropped: number } };

const TONE = { ok: 'ok', stale: 'warn', error: 'bad', disabled: 'muted', never: 'muted' } as const;

export async function renderSources(container: HTMLElement | null): Promise<void> {
  if (!container) return;
  const r = await api<Sources>('GET', '/api/v1/sources');
  // Until the sources endpoint exists the server-rendered table (from stored events) stays.
  if (!r.ok || !r.data || r.data.sources.length === 0) return;
  const rows = r.data.sources.map((s) => [
    s.name,
    badge(TONE[s.status] ?? 'muted', s.status),
    timeEl(s.last_event_at, 'never'),
    fmtNumber(s.events_last_hour),
    fmtNumber(s.errors_last_hour),
    s.detail ?? '',
  ]);
  const parts: HTMLElement[] = [
    table(
      ['Source', 'Status', 'Last event', 'Events, last hour', 'Errors, last hour', 'Detail'],
      rows,
      [3, 4],
    ),
  ];
  const q = r.data.gateway_queue;
  if (q) {
    parts.push(
      el(
        'p',
        { class: 'muted small' },
        `Gateway queue: ${fmtNumber(q.size)} of ${fmtNumber(q.capacity)}, ${fmtNumber(q.dropped)} dropped.`,
      ),
    );
  }
  container.replaceChildren(...parts);
}
