/**
 * Magic Hour operations and what they cost, from the provider's public docs (see DESIGN.md):
 * images 5–200 credits (most 5–50), video 24–576 credits per second of output, voice up to 50.
 */
import type { Rng } from './random.ts';

export type Operation = { name: string; kind: 'image' | 'video' | 'audio'; cost(rng: Rng): number };

const perSecond = (creditsPerSecond: readonly number[], seconds: readonly number[]) => (rng: Rng) =>
  rng.pick(creditsPerSecond) * rng.pick(seconds);

export const OPERATIONS = {
  'ai-image-generator': {
    kind: 'image',
    cost: (r: Rng) =>
      r.weighted([
        [5, 6],
        [10, 2],
        [25, 1],
        [50, 1],
      ] as const) * r.int(1, 4),
  },
  'ai-headshot-generator': { kind: 'image', cost: () => 50 },
  'face-swap-photo': { kind: 'image', cost: () => 5 },
  'image-upscaler': { kind: 'image', cost: (r: Rng) => r.pick([50, 100, 200]) },
  'image-background-remover': { kind: 'image', cost: () => 5 },
  'ai-qr-code-generator': { kind: 'image', cost: () => 20 },
  'text-to-video': { kind: 'video', cost: perSecond([24, 60, 120], [5, 5, 10]) },
  'image-to-video': { kind: 'video', cost: perSecond([24, 60, 120], [5, 5, 10]) },
  'face-swap': { kind: 'video', cost: perSecond([24], [5, 10, 15, 30]) },
  'lip-sync': { kind: 'video', cost: perSecond([24, 48], [5, 10, 20]) },
  'video-to-video': { kind: 'video', cost: perSecond([48, 96, 576], [5, 10]) },
  animation: { kind: 'video', cost: perSecond([24, 48], [5, 10, 15]) },
  'ai-voice-generator': { kind: 'audio', cost: (r: Rng) => r.int(5, 50) },
} as const satisfies Record<string, Omit<Operation, 'name'>>;

export type OperationName = keyof typeof OPERATIONS;

export function costOf(op: OperationName, rng: Rng): number {
  return OPERATIONS[op].cost(rng);
}

export const CLIENT_AGENTS = [
  'magic-hour-node/0.43.1',
  'magic-hour-python/0.39.0',
  'magic-hour-go/0.12.0',
  'axios/1.7.7',
] as const;

export const ATTACKER_AGENTS = ['python-requests/2.32.3', 'curl/8.5.0', 'Go-http-client/1.1'] as const;
