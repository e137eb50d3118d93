/**
 * PURE: the one "what to do" list for an incident, from its kind and severity. The page, every
 * email and the stored details all call this, so on-call reads the same steps wherever they look.
 * Severity sets the urgency: critical says revoke now, warning says check then rotate, info says review.
 */
import type { Severity } from './kinds.ts';

type Steps = Record<Severity, string[]>;

const HUB = 'the Magic Hour Developer Hub';
const REVOKE_NOW = `Revoke the key now in ${HUB} and create a new one.`;
const ROTATE = 'Put the new key in every service that should have it (CI, servers, integrations).';
const TRACE =
  'Then check the source IPs and user agents listed with this incident to find where the old key leaked.';
const CHECK =
  'Check the source IPs, user agents and operations listed with this incident: is this use yours?';
const ROTATE_IF_NOT = `If it is not, revoke the key in ${HUB} and rotate a new one into your services.`;
const MARK_EXPECTED = 'If it is yours, mark the incident as expected activity so Keywatch learns it.';
const REVIEW =
  'Review the activity listed with this incident when you have time; nothing needs doing right away.';

/** The usual ladder for "this key may be in the wrong hands", with one kind-specific hint. */
const keySteps = (hint?: string): Steps => ({
  critical: [REVOKE_NOW, ROTATE, TRACE, ...(hint ? [hint] : [])],
  warning: [CHECK, ...(hint ? [hint] : []), ROTATE_IF_NOT, MARK_EXPECTED],
  info: [REVIEW, ...(hint ? [hint] : []), MARK_EXPECTED],
});

const REVOKED: string[] = [
  `Confirm the key is revoked in ${HUB}.`,
  'Check the source IPs and user agents listed with this incident against your gateway and servers.',
  'Find where the old key is still configured and remove it.',
];

/** A key in client-side code: anyone who opens the page can copy it, so it must move and change. */
const EXPOSED_MOVE =
  'Move the calls server-side: browsers and apps call your backend, and only your backend holds the key.';
const EXPOSED_ROTATE =
  'Rotate the key: create a new one, pair it with this one in Keywatch’s rotation assistant (POST /api/v1/keys/:id/rotation) to see which clients still use the old key, and revoke the old key once none does.';
const EXPOSED_ORIGINS =
  'Restrict which origins may reach your backend (CORS), and check the pages listed as origins for the key in their source.';
const EXPOSED: Steps = {
  critical: [EXPOSED_MOVE, EXPOSED_ROTATE, EXPOSED_ORIGINS],
  warning: [
    'Check the user agents, origins and networks listed with this incident: is the key shipped in a web page or app?',
    EXPOSED_MOVE,
    EXPOSED_ROTATE,
    EXPOSED_ORIGINS,
  ],
  info: [REVIEW, EXPOSED_MOVE],
};

const BUDGET: Steps = {
  critical: [
    'Find the keys driving the spend on the Keywatch capacity page and slow them down or pause them now.',
    'Raise the budget only if the growth is planned.',
  ],
  warning: [
    'Check the top keys and operations this month on the Keywatch capacity page.',
    'Raise the budget if the growth is planned, or slow down the keys that drive it.',
  ],
  info: ['Review this month’s spend on the Keywatch capacity page.'],
};

const STEPS: Record<string, Steps> = {
  credit_spike: keySteps(),
  sustained_elevation: keySteps('Compare with recent releases or new integrations by the key’s owner.'),
  off_hours: keySteps('Ask the key’s owner whether a job was scheduled at that hour.'),
  dormant_wake: keySteps('Ask the key’s owner whether the service that used this key was restarted.'),
  new_source: keySteps(),
  operation_mix: keySteps('Ask the key’s owner whether the new operation is part of their product.'),
  auth_failures: keySteps('Find the client sending a wrong or revoked key; someone may be guessing keys.'),
  revoked_use: { critical: REVOKED, warning: REVOKED, info: REVOKED },
  discovered_key: {
    critical: [
      `If nobody owns this key, revoke it now in ${HUB}.`,
      'If it is yours, register it in Keywatch with an owner.',
    ],
    warning: [
      'Find who owns this key; if it is yours, register it in Keywatch with an owner.',
      `If nobody owns it, revoke it in ${HUB}.`,
    ],
    info: ['Review this key and register it in Keywatch with an owner if it is yours.'],
  },
  unattributed_spend: {
    critical: [
      `List the account’s keys in ${HUB} now and revoke any you do not recognise.`,
      'Make every key send usage through the Keywatch gateway or the push API.',
    ],
    warning: [
      'Check Magic Hour projects that did not go through the Keywatch gateway.',
      'Make every key send usage through the Keywatch gateway or the push API.',
    ],
    info: ['Review which services spend credits without going through the Keywatch gateway.'],
  },
  client_exposure: EXPOSED,
  usage_drop: {
    critical: [
      'Check now that the applications using this key are up and still send requests.',
      'If the key was rotated, make sure every client has the new one, then revoke the old key.',
    ],
    warning: [
      'Check that the applications using this key are up and still send requests.',
      'If the key was rotated, make sure every client has the new one, then revoke the old key.',
    ],
    info: ['Review whether this key’s lower use is planned (a paused feature, a holiday).'],
  },
  budget_threshold: BUDGET,
  budget_forecast: BUDGET,
};

export function whatToDo(kind: string, severity: Severity): string[] {
  return (STEPS[kind] ?? keySteps())[severity];
}
