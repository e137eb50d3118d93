/** Day and month boundaries in the configured time zone, as epoch ms. Pure. */

function offsetAt(ms: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
      .formatToParts(ms)
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  const asUtc = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

function localMidnight(ms: number, timeZone: string, firstOfMonth: boolean): number {
  const offset = offsetAt(ms, timeZone);
  const local = new Date(ms + offset);
  const midnight = Date.UTC(
    local.getUTCFullYear(),
    local.getUTCMonth(),
    firstOfMonth ? 1 : local.getUTCDate(),
  );
  // The offset at midnight may differ from now's across a DST change; one correction suffices.
  return midnight - offsetAt(midnight - offset, timeZone);
}

export const startOfDay = (ms: number, timeZone: string) => localMidnight(ms, timeZone, false);
export const startOfMonth = (ms: number, timeZone: string) => localMidnight(ms, timeZone, true);
