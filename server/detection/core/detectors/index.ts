/** Every key-level detector, in the order findings are reported. */
import type { DetectorKind } from '../params.ts';
import type { Detector } from '../types.ts';
import { detectAuthFailures } from './auth-failures.ts';
import { detectClientExposure } from './client-exposure.ts';
import { detectCreditSpike } from './credit-spike.ts';
import { detectDiscoveredKey } from './discovered-key.ts';
import { detectDormantWake } from './dormant-wake.ts';
import { detectNewSource } from './new-source.ts';
import { detectOffHours } from './off-hours.ts';
import { detectOperationMix } from './operation-mix.ts';
import { detectRevokedUse } from './revoked-use.ts';
import { detectSustainedElevation } from './sustained-elevation.ts';
import { detectUsageDrop } from './usage-drop.ts';

export const KEY_DETECTORS: readonly (readonly [DetectorKind, Detector])[] = [
  ['revoked_use', detectRevokedUse],
  ['discovered_key', detectDiscoveredKey],
  ['dormant_wake', detectDormantWake],
  ['credit_spike', detectCreditSpike],
  ['sustained_elevation', detectSustainedElevation],
  ['off_hours', detectOffHours],
  ['auth_failures', detectAuthFailures],
  ['new_source', detectNewSource],
  ['operation_mix', detectOperationMix],
  ['usage_drop', detectUsageDrop],
  ['client_exposure', detectClientExposure],
];
