/**
 * PURE: the name of an incident's usual range as people read it. Detectors now name their bands in
 * plain words; incidents stored before that carry statistics names ("negative-binomial tail",
 * "CUSUM"), which page, chart and email show as plain "usual range" instead.
 */
const STATISTICS = /binomial|poisson|cusum|likelihood|\btail\b|seasonal|baseline|established set|floor of/i;

export function bandName(method: string | undefined): string {
  return method && !STATISTICS.test(method) ? method : 'usual range';
}
