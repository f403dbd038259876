import { once } from 'node:events';
import pg from 'pg';
import type { EvalCell, Prisma } from '../generated/prisma/client';
import { databaseUrlOf, type Db } from '../client';

type LineageKind = Prisma.LineageEdgeCreateInput['kind'];

/**
 * The seed's writes: every record upserted by its natural key (model and adapter name, the
 * lineage triple, recipe name and version), so seeding twice leaves the same rows.
 */
export function seedingRepo(db: Db) {
  return {
    /** A model by name; returns its id. */
    async upsertModel(data: Prisma.ModelCreateInput): Promise<string> {
      return (await db.model.upsert({ where: { name: data.name }, create: data, update: data })).id;
    },
    /** A lineage edge between two models, with its note. */
    async upsertLineage(e: { parentId: string; childId: string; kind: LineageKind; note: string | null }) {
      await db.lineageEdge.upsert({
        where: { parentId_childId_kind: { parentId: e.parentId, childId: e.childId, kind: e.kind } },
        create: e,
        update: { note: e.note },
      });
    },
    /** An adapter by name. */
    async upsertAdapter(data: Prisma.AdapterUncheckedCreateInput) {
      await db.adapter.upsert({ where: { name: data.name }, create: data, update: data });
    },
    /** A recipe by name and version. */
    async upsertRecipe(data: Prisma.RecipeUncheckedCreateInput & { version: number }) {
      await db.recipe.upsert({ where: { name_version: { name: data.name, version: data.version } }, create: data, update: data });
    },
    /** A device's price, unless one is set (an admin's edit is never overwritten by a re-seed). */
    async priceIfMissing(data: { gpuType: string; pricePerHour: number; currency: string; peakFlops: number | null; note: string }) {
      await db.gpuPrice.upsert({ where: { gpuType: data.gpuType }, create: { ...data, updatedBy: 'seed' }, update: {} });
    },
    /** Eval runs in bulk, as given (benchmarks fill a registry of thousands this way); returns how many. */
    async insertEvalRuns(rows: Prisma.EvalRunCreateManyInput[]): Promise<number> {
      return (await db.evalRun.createMany({ data: rows })).count;
    },
    /** One eval run as given; returns its id. */
    async insertEvalRun(row: Prisma.EvalRunUncheckedCreateInput): Promise<string> {
      return (await db.evalRun.create({ data: row, select: { id: true } })).id;
    },
    /** Marks runs finished now. */
    async finishEvalRuns(ids: string[]) {
      await db.evalRun.updateMany({ where: { id: { in: ids } }, data: { finishedAt: new Date() } });
    },
    /**
     * Eval cells in bulk through `COPY … FROM STDIN` on `streams` connections of their own (each
     * takes whole batches in turn, so a run's cells stay together and its index entries land in
     * order); returns how many rows were written. Rows are read lazily: millions never sit in memory.
     */
    async copyEvalCells(batches: Iterable<readonly SeedCell[]>, opts: { streams?: number } = {}): Promise<number> {
      const it = batches[Symbol.iterator]();
      const url = databaseUrlOf(db);
      const one = async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          // A bulk load of rows nobody reads yet: no need to wait for each WAL flush.
          await client.query('SET synchronous_commit = off');
          return await client.query(new CopyIn(`COPY "EvalCell" (${EVAL_CELL_COLUMNS.map((c) => `"${c}"`).join(', ')}) FROM STDIN`, copyText(it))).done;
        } finally {
          await client.end();
        }
      };
      const counts = await Promise.all(Array.from({ length: Math.max(1, opts.streams ?? 2) }, one));
      return counts.reduce((a, n) => a + n, 0);
    },
    /**
     * After a bulk load: fresh planner statistics and a visibility map for the eval tables, so reads
     * timed next neither race autovacuum nor miss index-only scans. One statement per table: VACUUM
     * refuses to run inside the implicit transaction of a multi-statement query.
     */
    async analyzeEvalTables() {
      for (const table of ['EvalRun', 'EvalCell']) await db.$executeRawUnsafe(`VACUUM (ANALYZE) "${table}"`);
    },
    /** Bytes on disk of the cells table: heap, TOAST and every index. */
    async evalCellBytes(): Promise<{ total: number; indexes: number }> {
      const [r] = await db.$queryRaw<{ total: bigint; indexes: bigint }[]>`
        SELECT pg_total_relation_size('"EvalCell"') AS total, pg_indexes_size('"EvalCell"') AS indexes`;
      return { total: Number(r!.total), indexes: Number(r!.indexes) };
    },
  };
}

/** One eval cell as a bulk load writes it: every column given, as COPY wants (Prisma's row type). */
export type SeedCell = EvalCell;

/** Every column of EvalCell, in one order: what COPY writes and what raw cell reads select. */
export const EVAL_CELL_COLUMNS = ['id', 'evalRunId', 'task', 'contextLength', 'depth', 'sample', 'promptTokens', 'needleToken', 'needle', 'expected', 'response', 'score', 'latencyMs', 'error', 'attempts', 'createdAt'] as const satisfies readonly (keyof SeedCell)[];

/** A value in COPY's text format: \N for null, and backslash, tab, newline and carriage return escaped. */
function copyValue(v: string | number | Date | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  if (v instanceof Date) return v.toISOString();
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v;
}

/** Chunks of COPY text, one per batch taken from a shared iterator (several connections may draw from it). */
function* copyText(batches: Iterator<readonly SeedCell[]>): Generator<string> {
  for (let b = batches.next(); !b.done; b = batches.next()) {
    let chunk = '';
    for (const c of b.value) chunk += EVAL_CELL_COLUMNS.map((k) => copyValue(c[k])).join('\t') + '\n';
    yield chunk;
  }
}

/** What node-postgres hands a submitted query: the protocol messages COPY FROM needs. */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

/**
 * `COPY … FROM STDIN` as a node-postgres submittable: sends the statement, then, once the server
 * asks for data, the chunks (waiting for the socket to drain), then the end; `done` settles with
 * the row count at ReadyForQuery, or with the server's error.
 */
class CopyIn implements pg.Submittable {
  readonly done: Promise<number>;
  private settle!: { resolve: (n: number) => void; reject: (e: Error) => void };
  private rows = 0;
  private error: Error | null = null;

  constructor(
    private readonly text: string,
    private readonly chunks: Iterator<string>,
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: pg.Connection) {
    (connection as unknown as CopyConnection).query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection) {
    void (async () => {
      try {
        // After an error the server drops whatever follows: stop reading rows.
        for (let c = this.chunks.next(); !c.done && !this.error; c = this.chunks.next()) {
          connection.sendCopyFromChunk(Buffer.from(c.value));
          if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
        }
        connection.endCopyFrom();
      } catch (e) {
        connection.sendCopyFail(e instanceof Error ? e.message : String(e));
      }
    })();
  }

  handleCommandComplete(msg: { text?: string }) {
    this.rows = Number(/\d+$/.exec(msg.text ?? '')?.[0] ?? 0);
  }

  handleError(err: Error) {
    this.error = err;
  }

  handleReadyForQuery() {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve(this.rows);
  }

  // A COPY FROM returns no rows; these complete the interface node-postgres calls.
  handleRowDescription() {}
  handleDataRow() {}
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyData() {}
}
