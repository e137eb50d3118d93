/** Hono environment shared by every sub-app: what a handler can read from the context. */
import type { Principal } from '../auth/principal.ts';
import type { SessionPrincipal } from '../auth/sessions.ts';

export type AppEnv = {
  Variables: {
    principal: Principal | SessionPrincipal;
  };
};
