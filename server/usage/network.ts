/** The network an address belongs to: kept in the base layer (server/network.ts) so storage can use it too. */
export { subjectNetwork } from '../network.ts';
