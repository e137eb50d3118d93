/** Incidents stored with a statistics name for their band show "usual range"; plain names stay. */
import { describe, expect, it } from 'vitest';
import { bandName } from '../../server/incidents/band-name.ts';

describe('bandName', () => {
  it.each([
    'seasonal hour-of-week baseline, negative-binomial and compound-spend tail over 15 min',
    "Poisson tail against the key's own 401 rate over 10 min",
    'hourly CUSUM of log-likelihood ratio for a 40% rise over the seasonal baseline',
    'established set of 3 networks and 2 clients',
    'unattributed credits over 60 min against a floor of 500',
    undefined,
  ])('shows "usual range" for %s', (method) => {
    expect(bandName(method)).toBe('usual range');
  });

  it('keeps a plain name', () => {
    expect(bandName('usual range for 15 minutes at this time of the week')).toBe(
      'usual range for 15 minutes at this time of the week',
    );
  });
});
