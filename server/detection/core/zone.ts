/**
 * Local time for the detection core: the offset of a zone at an instant, cached per zone and hour
 * (offsets change at most at an hour boundary), so cells can be keyed by local hour-of-week with
 * no I/O and no per-bucket cost. Pure: the zone is passed in.
 */
const HOUR = 3_600_000;
const cache = new Map<string, Map<number, number>>();
const formats = new Map<string, Intl.DateTimeFormat>();

function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(zone, f);
  }
  return f;
}

/** Milliseconds to add to UTC for local wall time in `zone` at `ts` (New York in winter: -5 h). */
export function zoneOffset(zone: string, ts: number): number {
  if (zone === 'UTC') return 0;
  const hour = Math.floor(ts / HOUR);
  let byHour = cache.get(zone);
  if (!byHour) {
    byHour = new Map();
    cache.set(zone, byHour);
  }
  let offset = byHour.get(hour);
  if (offset === undefined) {
    const at = hour * HOUR;
    const p = Object.fromEntries(
      format(zone)
        .formatToParts(at)
        .map((x) => [x.type, Number(x.value)]),
    ) as Record<string, number>;
    offset = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!) - at;
    // A year of hours per zone at most: old hours are not asked for again in live operation.
    if (byHour.size > 24 * 400) byHour.clear();
    byHour.set(hour, offset);
  }
  return offset;
}
