import { archiveInput, getInput } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import type { z } from 'zod';
import { adminProcedure, memberProcedure, viewerProcedure } from '../trpc';

/** The record kinds whose repository offers a page, a record by id, create, patch and archive. */
type RegistryKind = 'adapters' | 'datasets' | 'evals' | 'models' | 'recipes';
type Repo<K extends RegistryKind> = Repositories[K];
type ListIn<K extends RegistryKind> = Parameters<Repo<K>['list']>[0];
type CreateIn<K extends RegistryKind> = Parameters<Repo<K>['create']>[0];
type Patch<K extends RegistryKind> = Parameters<Repo<K>['update']>[1];
/** What a repository method answers; named explicitly, since tRPC cannot infer an output through a generic key. */
type Out<K extends RegistryKind, M extends 'list' | 'get' | 'create' | 'update' | 'archive'> = Awaited<ReturnType<Repo<K>[M]>>;

/**
 * The five procedures of a registry record kind, straight onto its repository: anyone signed in lists and reads,
 * members create and edit, admins archive. A router spreads them and overrides what needs more (a `get` with
 * derived facts).
 */
export function registryRoutes<
  K extends RegistryKind,
  L extends z.ZodType<ListIn<K>>,
  C extends z.ZodType<CreateIn<K>>,
  U extends z.ZodType<{ id: string; patch: Patch<K> }>,
>(kind: K, inputs: { list: L; create: C; update: U }) {
  // One repository's methods, typed as the kind's own (TypeScript cannot call a method of a generic key's union).
  const repo = (repos: Repositories) =>
    repos[kind] as unknown as {
      list(input: ListIn<K>): Promise<Out<K, 'list'>>;
      get(id: string): Promise<Out<K, 'get'>>;
      create(input: CreateIn<K>): Promise<Out<K, 'create'>>;
      update(id: string, patch: Patch<K>): Promise<Out<K, 'update'>>;
      archive(id: string): Promise<Out<K, 'archive'>>;
    };
  return {
    list: viewerProcedure.input(inputs.list).query<Out<K, 'list'>>(({ ctx, input }) => repo(ctx.repos).list(input as ListIn<K>)),
    get: viewerProcedure.input(getInput).query<Out<K, 'get'>>(({ ctx, input }) => repo(ctx.repos).get(input.id)),
    create: memberProcedure.input(inputs.create).mutation<Out<K, 'create'>>(({ ctx, input }) => repo(ctx.repos).create(input as CreateIn<K>)),
    update: memberProcedure.input(inputs.update).mutation<Out<K, 'update'>>(({ ctx, input }) => {
      const { id, patch } = input as { id: string; patch: Patch<K> };
      return repo(ctx.repos).update(id, patch);
    }),
    archive: adminProcedure.input(archiveInput).mutation<Out<K, 'archive'>>(({ ctx, input }) => repo(ctx.repos).archive(input.id)),
  };
}
