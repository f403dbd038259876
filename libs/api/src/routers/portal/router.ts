import { router } from '../../trpc';

/** Read models shaped for the portal's pages (compare views, dashboards). */
export const portalRouter = router({});
