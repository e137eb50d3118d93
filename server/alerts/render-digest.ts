/** PURE: the daily or weekly digest email for billing owners. */

import { formatLocalTime, formatNumber, formatPercent, formatSigned } from '../format.ts';
import type { DigestData } from './digest-data.ts';
import { escapeHtml, htmlPage, htmlTable, incidentUrl, type Table, textTable } from './render-html.ts';
import type { RenderedEmail } from './render-incident.ts';
import { kindTitle } from './render-incident.ts';

const MOVERS = 5;

function change(now: number, before: number): string {
  if (before === 0) return now === 0 ? '0%' : 'new';
  return `${now >= before ? '+' : '-'}${formatPercent(Math.abs(now - before) / before)}`;
}

export function renderDigest(data: DigestData, publicUrl: string, timeZone: string): RenderedEmail {
  const daily = data.cadence === 'daily';
  const periodName = daily ? data.period.label : `week of ${data.period.label}`;
  const previousName = daily ? 'previous day' : 'previous week';
  const subject = `[Keywatch] ${daily ? 'Daily' : 'Weekly'} digest ${periodName}: ${formatNumber(data.total)} credits (${change(data.total, data.previousTotal)} vs ${previousName})`;

  const perKey: Table = {
    head: ['Key', 'Environment', 'Credits', daily ? 'Previous day' : 'Previous week', 'Change'],
    rows: data.keys.map((k) => [
      k.name,
      k.environment ?? '',
      formatNumber(k.credits),
      formatNumber(k.previous),
      change(k.credits, k.previous),
    ]),
  };
  const movers: Table = {
    head: ['Key', 'Change in credits', 'Change'],
    rows: [...data.keys]
      .filter((k) => k.credits !== k.previous)
      .sort((a, b) => Math.abs(b.credits - b.previous) - Math.abs(a.credits - a.previous))
      .slice(0, MOVERS)
      .map((k) => [k.name, formatSigned(k.credits - k.previous), change(k.credits, k.previous)]),
  };
  const open: Table = {
    head: ['Severity', 'What', 'Key', 'Since', 'Open incident'],
    rows: data.openIncidents.map((i) => [
      i.severity,
      kindTitle(i.kind),
      i.key ?? 'account',
      formatLocalTime(i.startedAt, timeZone),
      { text: 'Open incident', href: incidentUrl(publicUrl, i.id) },
    ]),
  };
  const m = data.month;
  const billing = m.source === 'subscription';
  const forecast = [
    billing
      ? `Spent in the billing period from ${m.label} so far: ${formatNumber(m.spent)} credits.`
      : `Spent in ${m.label} so far: ${formatNumber(m.spent)} credits.`,
    `Projected by ${billing ? `period end (${m.lastDay})` : 'month end'}: ${formatNumber(m.projected)} credits${m.budget ? ` (${formatPercent(m.projected / m.budget)} of the ${formatNumber(m.budget)} credit budget)` : ''}.`,
  ];
  const sections: [string, Table | string[]][] = [
    [`Spend per key (${periodName} vs ${previousName})`, perKey],
    ['Top movers', movers.rows.length ? movers : ['No change from the previous period.']],
    [`Open incidents (${data.openIncidents.length})`, open.rows.length ? open : ['None.']],
    ...(data.unpaged.tooOld + data.unpaged.belowFloor > 0
      ? [['Recorded without paging', unpagedLines(data.unpaged)] as [string, string[]]]
      : []),
    [billing ? 'Period-end forecast' : 'Month-end forecast', forecast],
  ];
  const intro = `Total: ${formatNumber(data.total)} credits (${previousName}: ${formatNumber(data.previousTotal)}).`;

  const text = [
    intro,
    ...sections.flatMap(([title, body]) => [
      '',
      `${title}:`,
      Array.isArray(body) ? body.join('\n') : textTable(body),
    ]),
    '',
    `Dashboard: ${publicUrl}`,
    '',
  ].join('\n');
  const html = htmlPage(
    subject,
    [
      `<h2>${escapeHtml(`Keywatch ${daily ? 'daily' : 'weekly'} digest: ${periodName}`)}</h2>`,
      `<p>${escapeHtml(intro)}</p>`,
      ...sections.map(
        ([title, body]) =>
          `<h3>${escapeHtml(title)}</h3>${Array.isArray(body) ? body.map((l) => `<p>${escapeHtml(l)}</p>`).join('') : htmlTable(body)}`,
      ),
      `<p><a href="${escapeHtml(publicUrl)}">Open the dashboard</a></p>`,
    ].join('\n'),
  );
  return { subject, text, html };
}

function unpagedLines(u: DigestData['unpaged']): string[] {
  return [
    ...(u.tooOld
      ? [
          `${formatNumber(u.tooOld)} found in history that had ended more than a day before (imports, backfills).`,
        ]
      : []),
    ...(u.belowFloor
      ? [`${formatNumber(u.belowFloor)} below the credit floor (small, unusual use). See Incidents.`]
      : []),
  ];
}
