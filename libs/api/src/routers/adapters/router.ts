import { adapterCreateInput, adapterListInput, adapterUpdateInput } from '@ctxlab/contracts';
import { router } from '../../trpc';
import { registryRoutes } from '../registry';

export const adaptersRouter = router(registryRoutes('adapters', { list: adapterListInput, create: adapterCreateInput, update: adapterUpdateInput }));
