/** PURE pieces of the alert emails' HTML and text bodies: escaping, tables, the page frame. */

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

/** A cell that links somewhere: the text version prints the address, the HTML one an anchor. */
export type Link = { text: string; href: string };
export type Cell = string | number | Link;
export type Table = { head: string[]; rows: Cell[][] };

const plain = (c: Cell) => (typeof c === 'object' ? c.href : String(c));
const html = (c: Cell) =>
  typeof c === 'object' ? `<a href="${escapeHtml(c.href)}">${escapeHtml(c.text)}</a>` : escapeHtml(c);

/** The one address of an incident in every message (emails, digests). */
export const incidentUrl = (publicUrl: string, id: string) =>
  `${publicUrl}/incidents/${encodeURIComponent(id)}`;

export function textTable(table: Table): string {
  const cells = [...(table.head.some(Boolean) ? [table.head] : []), ...table.rows.map((r) => r.map(plain))];
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
    .map((r) => `<tr>${r.map((c) => `<td style="padding:4px 8px">${html(c)}</td>`).join('')}</tr>`)
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
