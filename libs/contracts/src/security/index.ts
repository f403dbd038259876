/**
 * Server-side security primitives: password hashing, opaque tokens, encryption of stored
 * secrets, and guarding outbound requests to user-supplied URLs.
 *
 * Import from `@ctxlab/contracts/security`. These depend on node: built-ins and undici, so they
 * are kept out of the package's main entry point and stay server-only.
 */
export * from './passwords';
export * from './tokens';
export * from './secrets';
export * from './outbound';
