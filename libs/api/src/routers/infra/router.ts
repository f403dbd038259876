import { capacity } from '../../services/capacity';
import { infraProcedure, router } from '../../trpc';

export const infraRouter = router({
  /** GPU pools the registry needs now; read by Terraform's `http` data source with the infra token. */
  capacity: infraProcedure.query(({ ctx }) => capacity(ctx.repos, ctx.gpusPerNode)),
});
