/**
 * Server-side security primitives: password hashing, opaque tokens, encryption of stored
 * secrets, and guarding outbound requests to user-supplied URLs.
 *
 * Import from `@ctxlab/security`. These depend on node: built-ins and undici, so they live in their
 * own Node-only library (tagged type:node-util) and stay server-only; libs/contracts stays zod-only.
 */
export * from './passwords';
export * from './tokens';
export * from './secrets';
export * from './outbound';
