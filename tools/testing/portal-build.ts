/**
 * The portal build stamp of the bootstrap (tools/bootstrap/portal-build.ts), for the browser tests'
 * stack: they build the portal only when its sources changed since the last build.
 */
export { markPortalBuilt, portalBuildIsCurrent, portalSourceHash } from '../bootstrap/portal-build';
