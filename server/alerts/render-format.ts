/** PURE helpers shared by the email renderers: escaping, numbers, durations, the HTML frame. */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

export function formatNumber(n: number, maxFractionDigits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: maxFractionDigits });
}

export function formatSigned(n: number): string {
  return `${n >= 0 ? '+' : '-'}${formatNumber(Math.abs(n))}`;
}

export function formatPercent(ratio: number): string {
  return `${formatNumber(ratio * 100)}%`;
}

/** "15 min", "2 h", "3 d": the length of a window, rounded for a subject line. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 90) return `${minutes} min`;
  const hours = ms / 3_600_000;
  if (hours < 48) return `${formatNumber(hours, hours < 10 ? 1 : 0)} h`;
  return `${formatNumber(ms / 86_400_000, 1)} d`;
}

/** "2026-11-26 14:05 (Europe/Paris)": a local time for people, with the zone named. */
export function formatLocalTime(isoOrMs: string | number, timeZone: string, withZone = true): string {
  const date = new Date(isoOrMs);
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  return withZone ? `${text} (${timeZone})` : text;
}

/** The "…a1b2" suffix that tells keys apart without revealing them. */
export const keySuffix = (last4: string | null | undefined) => (last4 ? ` (…${last4})` : '');

export type Table = { head: string[]; rows: (string | number)[][] };

export function textTable(table: Table): string {
  const cells = [...(table.head.some(Boolean) ? [table.head] : []), ...table.rows.map((r) => r.map(String))];
  const widths = table.head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function htmlTable(table: Table): string {
  const th = table.head.map((h) => `<th align="left" style="padding:4px 8px">${escapeHtml(h)}</th>`).join('');
  const rows = table.rows
    .map((r) => `<tr>${r.map((c) => `<td style="padding:4px 8px">${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('');
  // A table of facts has no header row: its head is all blanks.
  const header = table.head.some(Boolean) ? `<tr>${th}</tr>` : '';
  return `<table style="border-collapse:collapse;font-size:14px">${header}${rows}</table>`;
}

export function htmlPage(title: string, body: string): string {
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`,
    '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1a1a1a;max-width:680px">',
    body,
    '<p style="color:#666;font-size:12px">Sent by Keywatch. Change who receives these alerts in Settings.</p>',
    '</body></html>',
  ].join('\n');
}
