/**
 * Calendar periods in an IANA time zone (Intl only): local days, ISO weeks and months as
 * [start, end) epoch ms. Kept here until the lead's shared time-zone module lands on main.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export type LocalParts = { year: number; month: number; day: number; hour: number; minute: number };

export function localParts(ms: number, timeZone: string): LocalParts {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute! };
}

function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const secs = Math.floor(ms / 1000) * 1000;
  const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, new Date(secs).getUTCSeconds());
  return local - secs;
}

/** The instant the zone's wall clock shows 00:00 on that date (month/day may overflow, like Date.UTC). */
export function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  const guess = wall - offsetAt(wall, timeZone);
  // Second pass: the offset can differ across a DST change.
  return wall - offsetAt(guess, timeZone);
}

export type Period = { label: string; start: number; end: number };

const pad = (n: number) => String(n).padStart(2, '0');
const dateLabel = (y: number, m: number, d: number) => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
};

/** The local day containing `ms`, shifted by `offsetDays`. */
export function dayPeriod(ms: number, timeZone: string, offsetDays = 0): Period {
  const p = localParts(ms, timeZone);
  const d = p.day + offsetDays;
  return {
    label: dateLabel(p.year, p.month, d),
    start: localMidnight(p.year, p.month, d, timeZone),
    end: localMidnight(p.year, p.month, d + 1, timeZone),
  };
}

/** The ISO week (Monday to Sunday) containing `ms`, shifted by `offsetWeeks`; labelled by its Monday. */
export function weekPeriod(ms: number, timeZone: string, offsetWeeks = 0): Period {
  const p = localParts(ms, timeZone);
  const weekday = (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7;
  const monday = p.day - weekday + 7 * offsetWeeks;
  return {
    label: dateLabel(p.year, p.month, monday),
    start: localMidnight(p.year, p.month, monday, timeZone),
    end: localMidnight(p.year, p.month, monday + 7, timeZone),
  };
}

/** The calendar month containing `ms`, shifted by `offsetMonths`; labelled 'YYYY-MM'. */
export function monthPeriod(ms: number, timeZone: string, offsetMonths = 0): Period {
  const p = localParts(ms, timeZone);
  const first = new Date(Date.UTC(p.year, p.month - 1 + offsetMonths, 1));
  const y = first.getUTCFullYear();
  const m = first.getUTCMonth() + 1;
  return {
    label: `${y}-${pad(m)}`,
    start: localMidnight(y, m, 1, timeZone),
    end: localMidnight(y, m + 1, 1, timeZone),
  };
}
