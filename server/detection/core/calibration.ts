/**
 * Self-calibrating p-values. Real usage is burstier than any count model, so a model p-value of
 * 1e-6 may happen weekly. We watch the key's own surprise S = -ln p and, peaks-over-threshold
 * style (Pickands-Balkema-de Haan), model exceedances over u = ln(100) as exponential with a
 * learned scale theta. A calibrated model keeps theta ~ 1 and changes nothing; a heavy-tailed key
 * gets theta > 1 and needs proportionally more surprise. Priors are the calibrated model itself.
 */
export type Calibration = { n: number; k: number; excess: number };

const U = Math.log(100);
const PRIOR_EXCEEDANCES = 10;
/**
 * Excesses are winsorised at WINSOR x the current scale (robust to the anomalies themselves);
 * for an exponential, E[min(X, 3 theta)] = theta (1 - e^-3), which the estimate corrects for.
 */
const WINSOR = 3;
const WINSOR_MEAN = 1 - Math.exp(-WINSOR);

export const createCalibration = (): Calibration => ({ n: 0, k: 0, excess: 0 });

export function calibrateP(c: Calibration, p: number): number {
  const s = -Math.log(Math.max(p, 1e-300));
  const priorN = PRIOR_EXCEEDANCES / Math.exp(-U);
  const pu = (c.k + PRIOR_EXCEEDANCES) / (c.n + priorN);
  const theta = scaleOf(c);
  if (s <= U) return Math.min(1, p * (pu / Math.exp(-U)));
  return Math.min(1, pu * Math.exp(-(s - U) / theta));
}

function scaleOf(c: Calibration): number {
  return (c.excess / WINSOR_MEAN + PRIOR_EXCEEDANCES) / (c.k + PRIOR_EXCEEDANCES);
}

export function learnCalibration(c: Calibration, p: number, memory: number): void {
  const keep = 1 - 1 / Math.max(1, memory);
  const s = -Math.log(Math.max(p, 1e-300));
  c.n = c.n * keep + 1;
  c.k *= keep;
  c.excess *= keep;
  if (s > U) {
    c.k += 1;
    c.excess += Math.min(s - U, WINSOR * scaleOf(c));
  }
}
