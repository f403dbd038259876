/**
 * `npm run db:migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with the
 * SQL that takes the migrated database to prisma/schema.prisma. Prisma's CLI would do this with a
 * native engine that cannot be downloaded offline; this drives Prisma's WASM schema engine instead.
 * The diff starts from a scratch database with every committed migration applied.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SchemaEngine } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { applyMigrations } from '../../libs/db/src/migrate';
import { dropDatabase, ensureDatabase, ensureServices, root, serviceConfig } from '../bootstrap/services';

/**
 * The engine's introspection reads catalog columns of Postgres' internal `"char"` type (oid 18),
 * which the pg driver adapter cannot map; reporting them as text (oid 25) is exact for 1-byte values.
 */
class CharAsTextPool extends pg.Pool {
  override query(...args: unknown[]): never {
    const r = (super.query as (...a: unknown[]) => unknown)(...args);
    if (r && typeof (r as Promise<unknown>).then === 'function') {
      return (r as Promise<pg.QueryResult>).then((res) => {
        for (const f of res.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
        return res;
      }) as never;
    }
    return r as never;
  }
}

const name = (process.argv[2] ?? '').replace(/[^a-z0-9_]+/gi, '_').toLowerCase();
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(2);
}
const cfg = serviceConfig();
const stop = await ensureServices(cfg);
const scratch = new URL(cfg.databaseUrl);
scratch.pathname = '/ctxlab_migration_scratch';
try {
  await dropDatabase(scratch.toString());
  await ensureDatabase(scratch.toString());
  const dir = join(root, 'prisma/migrations');
  await applyMigrations(scratch.toString(), dir);
  const schema = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8');
  // The datamodel the committed migrations produce, kept beside them; the engine diffs datamodels
  // without introspecting a database.
  const snapshotPath = join(dir, 'schema.snapshot.prisma');
  const previous = existsSync(snapshotPath) ? readFileSync(snapshotPath, 'utf8') : null;
  const factory = new PrismaPg(new CharAsTextPool({ connectionString: scratch.toString() }), { disposeExternalPool: true });
  // The engine expects the Result-returning binding Prisma's own tooling wraps adapters in.
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  const engine = await SchemaEngine.new({ datamodels: [['schema.prisma', schema]] }, () => undefined, adapter);
  const diff = await engine.diff({
    from: previous === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: previous }] },
    to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
    script: true,
    exitCode: null,
    filters: { externalTables: [], externalEnums: [] },
  });
  const sql = (diff.stdout ?? '').trim();
  if (!sql || /^-- This is an empty migration/.test(sql)) {
    console.log('schema.prisma matches the migrations: nothing to write');
  } else {
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const out = join(dir, `${stamp}_${name}`);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'migration.sql'), `${sql}\n`);
    writeFileSync(snapshotPath, schema);
    // Prove the new migration applies on top of the others before anyone commits it.
    await applyMigrations(scratch.toString(), dir);
    writeFileSync(join(dir, 'migration_lock.toml'), '# Written by tools/db/create-migration.ts\nprovider = "postgresql"\n');
    console.log(`wrote ${out}/migration.sql`);
  }
  engine.free();
} finally {
  await dropDatabase(scratch.toString()).catch(() => undefined);
  stop();
}
