/** The kinds of key a real Magic Hour account has: who uses it, when, and for what. */
import { DAY } from '../clock.ts';
import { CLIENT_AGENTS, type OperationName } from './catalog.ts';

/** When a key works: a multiplier in [0, 1] for each hour of the week (UTC). */
export type Shape = 'business' | 'evening' | 'batch' | 'steady' | 'sparse';

export type KeyProfile = {
  name: string;
  environment: 'production' | 'staging' | 'development';
  owner: string;
  ageDays: number;
  shape: Shape;
  /** Requests per hour at the busiest hour, at the start of the simulated window. */
  peakPerHour: number;
  /** Organic growth of traffic per week, e.g. 0.03 = +3%. */
  growthPerWeek: number;
  mix: readonly (readonly [OperationName, number])[];
  ips: readonly string[];
  agents: readonly string[];
  /** Share of requests rejected by the provider (422, 429, 400, 402). */
  errorRate: number;
  /** Days from the start of the window after which this key goes quiet (a forgotten key). */
  stopsAfterDays?: number;
};

export const KEY_TEMPLATES: readonly KeyProfile[] = [
  {
    name: 'prod-web',
    environment: 'production',
    owner: 'web-team@example.com',
    ageDays: 45,
    shape: 'evening',
    peakPerHour: 60,
    growthPerWeek: 0.03,
    mix: [
      ['ai-image-generator', 60],
      ['face-swap-photo', 20],
      ['image-to-video', 8],
      ['image-background-remover', 12],
    ],
    ips: ['203.0.113.10', '203.0.113.11'],
    agents: [CLIENT_AGENTS[0]],
    errorRate: 0.015,
  },
  {
    name: 'prod-mobile',
    environment: 'production',
    owner: 'mobile-team@example.com',
    ageDays: 120,
    shape: 'evening',
    peakPerHour: 40,
    growthPerWeek: 0.05,
    mix: [
      ['ai-headshot-generator', 30],
      ['face-swap-photo', 50],
      ['ai-image-generator', 20],
    ],
    ips: ['203.0.113.20', '203.0.113.21', '203.0.113.22'],
    agents: [CLIENT_AGENTS[0]],
    errorRate: 0.02,
  },
  {
    name: 'prod-render-batch',
    environment: 'production',
    owner: 'video-pipeline@example.com',
    ageDays: 60,
    shape: 'batch',
    peakPerHour: 20,
    growthPerWeek: 0.02,
    mix: [
      ['text-to-video', 40],
      ['face-swap', 30],
      ['lip-sync', 30],
    ],
    ips: ['198.51.100.5'],
    agents: [CLIENT_AGENTS[1]],
    errorRate: 0.01,
  },
  {
    name: 'marketing-studio',
    environment: 'production',
    owner: 'marketing@example.com',
    ageDays: 200,
    shape: 'business',
    peakPerHour: 12,
    growthPerWeek: 0,
    mix: [
      ['text-to-video', 20],
      ['ai-image-generator', 50],
      ['ai-qr-code-generator', 10],
      ['image-upscaler', 20],
    ],
    ips: ['192.0.2.40'],
    agents: [CLIENT_AGENTS[3]],
    errorRate: 0.02,
  },
  {
    name: 'staging',
    environment: 'staging',
    owner: 'platform@example.com',
    ageDays: 80,
    shape: 'business',
    peakPerHour: 6,
    growthPerWeek: 0,
    mix: [
      ['ai-image-generator', 50],
      ['face-swap-photo', 30],
      ['text-to-video', 20],
    ],
    ips: ['198.51.100.30'],
    agents: [CLIENT_AGENTS[0]],
    errorRate: 0.04,
  },
  {
    name: 'dev-alice',
    environment: 'development',
    owner: 'alice@example.com',
    ageDays: 20,
    shape: 'sparse',
    peakPerHour: 3,
    growthPerWeek: 0,
    mix: [
      ['ai-image-generator', 60],
      ['ai-voice-generator', 40],
    ],
    ips: ['192.0.2.77'],
    agents: [CLIENT_AGENTS[1]],
    errorRate: 0.06,
  },
  {
    name: 'analytics-reporter',
    environment: 'production',
    owner: 'data@example.com',
    ageDays: 95,
    shape: 'steady',
    peakPerHour: 4,
    growthPerWeek: 0.01,
    mix: [
      ['ai-voice-generator', 70],
      ['ai-image-generator', 30],
    ],
    ips: ['198.51.100.60'],
    agents: [CLIENT_AGENTS[2]],
    errorRate: 0.01,
  },
  {
    name: 'zapier-legacy',
    environment: 'production',
    owner: 'ops@example.com',
    ageDays: 310,
    shape: 'sparse',
    peakPerHour: 2,
    growthPerWeek: 0,
    mix: [['ai-image-generator', 100]],
    ips: ['192.0.2.90'],
    agents: ['Zapier'],
    errorRate: 0.02,
    stopsAfterDays: 2,
  },
];

/** `n` profiles: the templates in order, then variants of them with their own names and IPs. */
export function profilesFor(n: number): KeyProfile[] {
  return Array.from({ length: n }, (_, i) => {
    const t = KEY_TEMPLATES[i % KEY_TEMPLATES.length]!;
    const round = Math.floor(i / KEY_TEMPLATES.length);
    if (round === 0) return t;
    return {
      ...t,
      name: `${t.name}-${round + 1}`,
      ips: t.ips.map((ip) => ip.replace(/\.(\d+)$/, (_, last) => `.${(Number(last) + 100 + round) % 250}`)),
    };
  });
}

/** Multiplier in [0, 1] for the hour of the week; 0 means this key never works then. */
export function shapeAt(shape: Shape, ts: number): number {
  const d = new Date(ts);
  const hour = d.getUTCHours();
  const weekday = d.getUTCDay() >= 1 && d.getUTCDay() <= 5;
  switch (shape) {
    case 'business':
      if (!weekday || hour < 8 || hour > 18) return 0;
      return hour === 8 || hour === 18 ? 0.3 : hour === 12 ? 0.6 : 1;
    case 'sparse':
      return weekday && hour >= 9 && hour <= 17 ? 1 : 0;
    case 'batch':
      return hour >= 1 && hour < 4 ? 1 : 0;
    case 'steady':
      return 0.7 + 0.3 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
    case 'evening': {
      const curve = [
        0.15, 0.1, 0.08, 0.06, 0.06, 0.08, 0.15, 0.25, 0.35, 0.4, 0.45, 0.5, 0.6, 0.55, 0.5, 0.5, 0.55, 0.7,
        0.85, 1, 1, 0.9, 0.6, 0.3,
      ];
      return curve[hour]! * (weekday ? 1 : 1.15);
    }
  }
}

export const growthFactor = (profile: KeyProfile, sinceStart: number) =>
  (1 + profile.growthPerWeek) ** (sinceStart / (7 * DAY));
