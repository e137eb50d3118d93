/**
 * The provider slot: what Keywatch needs to know about a usage-billed API. Magic Hour fills the
 * gateway, webhook and account parts; a provider with a per-key usage API (OpenAI, Anthropic admin
 * APIs) would fill `usage` instead and be polled by a job, one module per provider.
 */
import type { AccountInfo } from '../../account/snapshot.ts';

/** What the gateway should read from a response: nothing, a create answer, or a project. */
export type ResponseKind = 'create' | 'project' | null;

/** Facts a provider response carries about spend. */
export type ResponseFacts = {
  credits: number | null;
  projectId: string | null;
  /** Provider status of the project ('complete', 'error', ...), when the response is a project. */
  status: string | null;
};

export type ProjectOutcome = 'started' | 'completed' | 'errored' | 'other';

/** A verified webhook event, reduced to what credit accounting needs. */
export type ProviderWebhookEvent = {
  type: string;
  /** 'video' | 'image' | 'audio' for Magic Hour. */
  kind: string;
  outcome: ProjectOutcome;
  projectId: string;
  credits: number | null;
  status: string | null;
  /** The project's creation time in epoch ms, when the payload says. */
  createdAt: number | null;
};

export type GatewayAdapter = {
  /** A stable operation name from the request path (`/v1/face-swap` -> `face-swap`). */
  operationFromPath(path: string): string;
  /** Which responses carry facts worth buffering a copy of the body for. */
  responseKind(method: string, path: string): ResponseKind;
  readFacts(kind: Exclude<ResponseKind, null>, body: unknown): ResponseFacts | null;
};

export type WebhookAdapter = {
  signatureHeader: string;
  timestampHeader: string;
  /** Returns null for a well-signed body that is not an event we understand. */
  parseEvent(body: unknown): ProviderWebhookEvent | null;
};

export type AccountAdapter = {
  /** Path of the account endpoint, relative to the base URL. */
  balancePath: string;
  parseBalance(body: unknown): number | null;
  /** Plan and billing period, when the provider's account endpoint says; null when unreadable. */
  parseAccount?(body: unknown): AccountInfo | null;
};

export type Provider = {
  id: string;
  displayName: string;
  defaultBaseUrl: string;
  gateway?: GatewayAdapter;
  webhooks?: WebhookAdapter;
  account?: AccountAdapter;
};
