/** Hono environment shared by every sub-app: what a handler can read from the context. */
import type { Principal } from './principal.ts';
import type { SessionPrincipal } from './sessions.ts';

export type AppEnv = {
  Variables: {
    principal: Principal | SessionPrincipal;
  };
};
