/** Calendar arithmetic in an IANA time zone with Intl only: local dates and month boundaries. */
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

export type LocalParts = {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
};

export function localParts(ms: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** 'YYYY-MM-DD' of the instant in the zone. */
export function localDate(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

const offsets = new Map<string, Map<number, number>>();

/**
 * Milliseconds the zone is ahead of UTC at that instant (New York in winter: -5 h). Offsets change
 * at most on an hour boundary, so they are cached per zone and hour: the detection core asks for
 * every bucket of every key.
 */
export function zoneOffset(timeZone: string, ms: number): number {
  if (timeZone === 'UTC') return 0;
  const hour = Math.floor(ms / 3_600_000);
  let byHour = offsets.get(timeZone);
  if (!byHour) {
    byHour = new Map();
    offsets.set(timeZone, byHour);
  }
  let offset = byHour.get(hour);
  if (offset === undefined) {
    const at = hour * 3_600_000;
    const p = localParts(at, timeZone);
    offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - at;
    // A year of hours per zone at most: live operation does not ask for old hours again.
    if (byHour.size > 24 * 400) byHour.clear();
    byHour.set(hour, offset);
  }
  return offset;
}

const offsetAt = (ms: number, timeZone: string) => zoneOffset(timeZone, ms);

/** The instant when the local wall clock in the zone shows the given date at 00:00. */
export function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall - offsetAt(wall, timeZone);
  // A second pass settles the guess when the offset differs across a DST change.
  guess = wall - offsetAt(guess, timeZone);
  return guess;
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

/** An IANA zone name this runtime knows (America/New_York, Asia/Kolkata, UTC). */
export function isValidTimeZone(tz: string): boolean {
  // The default, known to every runtime: checking it through Intl would load ICU's data (tens of
  // milliseconds) while `keywatch serve` starts.
  if (tz === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
