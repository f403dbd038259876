import {
  badRequest,
  conflict,
  modelConfigIssues,
  notFound,
  type LineageKind,
  type ModelConfig,
  type ModelCreateInput,
  type ModelPatch,
} from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import { Prisma, type Model as ModelRow } from '../generated/prisma/client';
import { paginate, textSearch, type ListArgs } from './paging';

export type ModelRecord = Omit<ModelRow, 'ropeScaling'> & { ropeScaling: ModelConfig['ropeScaling'] };

const toRecord = (m: ModelRow): ModelRecord => ({ ...m, ropeScaling: (m.ropeScaling ?? null) as ModelConfig['ropeScaling'] });

export function modelConfigOf(m: ModelRecord): ModelConfig {
  return {
    architecture: m.architecture as ModelConfig['architecture'],
    numLayers: m.numLayers,
    hiddenSize: m.hiddenSize,
    numAttentionHeads: m.numAttentionHeads,
    numKeyValueHeads: m.numKeyValueHeads,
    headDim: m.headDim,
    intermediateSize: m.intermediateSize,
    vocabSize: m.vocabSize,
    ropeTheta: m.ropeTheta,
    ropeScaling: m.ropeScaling,
    maxPositionEmbeddings: m.maxPositionEmbeddings,
    tieWordEmbeddings: m.tieWordEmbeddings,
    tokenizer: m.tokenizer,
    dtype: m.dtype as ModelConfig['dtype'],
    ...(m.attentionBias !== null ? { attentionBias: m.attentionBias } : {}),
    ...(m.slidingWindow !== null ? { slidingWindow: m.slidingWindow } : {}),
  };
}

const dbLineage = (k: LineageKind) => k.replace('-', '_') as Prisma.LineageEdgeCreateInput['kind'];
export const lineageKindOut = (k: string) => k.replace('_', '-') as LineageKind;

export interface ModelListArgs extends ListArgs {
  origin?: 'base' | 'derived' | undefined;
  tag?: string | undefined;
  family?: string | undefined;
  minContext?: number | undefined;
  /** The team whose jobs produced them (a team id). */
  teamId?: string | undefined;
}

export function modelsRepo(db: Db) {
  return {
    async list(a: ModelListArgs) {
      const where = {
        ...textSearch(['name', 'displayName', 'family', 'description'], a.search),
        ...(a.origin ? { origin: a.origin } : {}),
        ...(a.tag ? { tags: { has: a.tag } } : {}),
        ...(a.family ? { family: a.family } : {}),
        ...(a.minContext ? { maxPositionEmbeddings: { gte: a.minContext } } : {}),
        ...(a.teamId ? { teamId: a.teamId } : {}),
      };
      return paginate(db.model, a, where, toRecord, { defaultSort: { name: 'asc' } });
    },
    async get(id: string) {
      const m = await db.model.findUnique({ where: { id } });
      if (!m) throw notFound('model', id);
      return toRecord(m);
    },
    /** Whether a model with this id exists (archived or not). */
    async exists(id: string) {
      return (await db.model.findUnique({ where: { id }, select: { id: true } })) !== null;
    },
    async getByName(name: string) {
      const m = await db.model.findUnique({ where: { name } });
      return m ? toRecord(m) : null;
    },
    /**
     * The registry model a Hugging Face id names (e.g. an adapter's base_model_name_or_path): the one
     * imported from it or registered with hf://<id> as its source, else one named like the id's last part.
     */
    async findByHubName(hubName: string) {
      const byHub = await db.model.findFirst({
        where: { archivedAt: null, OR: [{ sourceUri: `hf://${hubName}` }, { hub: { path: ['hubName'], equals: hubName } }] },
        orderBy: { createdAt: 'asc' },
      });
      if (byHub) return toRecord(byHub);
      return this.getByName(hubName.split('/').pop()!);
    },
    /** `hub`: what an import from Hugging Face files read (imports only). `teamId`: the team whose job produced it (GPU jobs only). */
    async create(input: ModelCreateInput, hub?: object, teamId?: string | null) {
      const { config, serving, ...rest } = input;
      return guard('model', async () =>
        toRecord(
          await db.model.create({
            data: {
              ...rest,
              ...config,
              ropeScaling: (config.ropeScaling ?? undefined) as Prisma.InputJsonValue | undefined,
              serving: (serving ?? undefined) as Prisma.InputJsonValue | undefined,
              hub: (hub ?? undefined) as Prisma.InputJsonValue | undefined,
              teamId: teamId ?? null,
            },
          }),
        ),
      );
    },
    async update(id: string, patch: ModelPatch) {
      const current = await this.get(id);
      const { config, serving, ...rest } = patch;
      if (config) {
        const merged = { ...modelConfigOf(current), ...config };
        const issue = modelConfigIssues(merged)[0];
        if (issue) throw badRequest(`config.${issue.path}: ${issue.message}`, `config.${issue.path}`);
      }
      const { ropeScaling, ...configRest } = config ?? {};
      const data: Prisma.ModelUpdateInput = { ...rest, ...configRest };
      if (serving !== undefined) data.serving = serving ? (serving as Prisma.InputJsonValue) : Prisma.JsonNull;
      if (config && 'ropeScaling' in config) data.ropeScaling = ropeScaling ? (ropeScaling as Prisma.InputJsonValue) : Prisma.JsonNull;
      return guard('model', async () => toRecord(await db.model.update({ where: { id }, data })));
    },
    async archive(id: string) {
      await this.get(id);
      return toRecord(await db.model.update({ where: { id }, data: { archivedAt: new Date() } }));
    },
    async addLineage(e: { parentId: string; childId: string; kind: LineageKind; jobId?: string | undefined; note?: string | undefined }) {
      await Promise.all([this.get(e.parentId), this.get(e.childId)]);
      // A cycle would make "ancestors" infinite: refuse an edge whose parent descends from the child.
      const descendants = await this.lineage(e.childId, 50);
      if (descendants.nodes.some((n) => n.id === e.parentId && n.relation === 'descendant')) {
        throw badRequest(`model ${e.parentId} already descends from ${e.childId}: the edge would make a cycle`, 'parentId');
      }
      try {
        const row = await db.lineageEdge.create({
          data: { parentId: e.parentId, childId: e.childId, kind: dbLineage(e.kind), jobId: e.jobId ?? null, note: e.note ?? null },
        });
        return { ...row, kind: lineageKindOut(row.kind) };
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw conflict(`a ${e.kind} edge from ${e.parentId} to ${e.childId} already exists`);
        return guard('lineage edge', () => Promise.reject(err));
      }
    },
    /** The model's lineage parent (the earliest edge when it has several), or null for a base model. */
    async parentOf(modelId: string) {
      const e = await db.lineageEdge.findFirst({
        where: { childId: modelId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { parent: { select: { id: true, name: true } } },
      });
      return e?.parent ?? null;
    },
    /**
     * Ancestors and descendants with edge kinds, walked breadth-first one level per query (a
     * lineage is a small DAG: a handful of levels, so this is a few queries, not N+1 per node).
     */
    async lineage(modelId: string, depth = 20) {
      const root = await this.get(modelId);
      const nodes = new Map<string, { id: string; name: string; origin: string; maxPositionEmbeddings: number; ropeTheta: number; archived: boolean; relation: 'self' | 'ancestor' | 'descendant'; level: number }>();
      const node = (m: ModelRow, relation: 'self' | 'ancestor' | 'descendant', level: number) => ({
        id: m.id, name: m.name, origin: m.origin, maxPositionEmbeddings: m.maxPositionEmbeddings, ropeTheta: m.ropeTheta, archived: m.archivedAt !== null, relation, level,
      });
      nodes.set(root.id, node(root as unknown as ModelRow, 'self', 0));
      const edges = new Map<string, { id: string; parentId: string; childId: string; kind: LineageKind; jobId: string | null; note: string | null }>();
      for (const dir of ['up', 'down'] as const) {
        let frontier = [root.id];
        for (let level = 1; level <= depth && frontier.length; level++) {
          const found = await db.lineageEdge.findMany({
            where: dir === 'up' ? { childId: { in: frontier } } : { parentId: { in: frontier } },
            include: { parent: true, child: true },
          });
          const next: string[] = [];
          for (const e of found) {
            edges.set(e.id, { id: e.id, parentId: e.parentId, childId: e.childId, kind: lineageKindOut(e.kind), jobId: e.jobId, note: e.note });
            const other = dir === 'up' ? e.parent : e.child;
            if (!nodes.has(other.id)) {
              nodes.set(other.id, node(other, dir === 'up' ? 'ancestor' : 'descendant', dir === 'up' ? -level : level));
              next.push(other.id);
            }
          }
          frontier = next;
        }
      }
      return { root: root.id, nodes: [...nodes.values()], edges: [...edges.values()] };
    },
  };
}
