import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSettings } from '@ctxlab/testing/db';
import { applyMigrations, listMigrations } from './migrate';

const dir = resolve(import.meta.dirname, '../../../prisma/migrations');

describe('migrations', () => {
  const base = new URL(testSettings().databaseUrl);
  const name = `ctxlab_migrate_${process.pid}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  const admin = new URL(base);
  admin.pathname = '/postgres';

  async function sql(q: string, target = admin.toString()) {
    const c = new pg.Client({ connectionString: target });
    await c.connect();
    try {
      return await c.query(q);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await sql(`CREATE DATABASE ${name}`);
  });
  afterAll(async () => {
    await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('apply to an empty database, then re-apply as a no-op', async () => {
    const all = listMigrations(dir).map((m) => m.name);
    expect(all.length).toBeGreaterThan(0);
    const first = await applyMigrations(url.toString(), dir);
    expect(first.applied).toEqual(all);
    const tables = await sql(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`, url.toString());
    expect(tables.rows.map((r) => r.tablename)).toEqual(
      expect.arrayContaining(['Model', 'LineageEdge', 'Adapter', 'Recipe', 'Dataset', 'Endpoint', 'EvalRun', 'EvalCell', 'Job', 'JobEvent', '_prisma_migrations']),
    );
    const second = await applyMigrations(url.toString(), dir);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(all);
    const rows = await sql(`SELECT count(*)::int AS n FROM "_prisma_migrations"`, url.toString());
    expect(rows.rows[0].n).toBe(all.length);
  });

  it('refuses a migration that was edited after it was applied', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'ctxlab-mig-'));
    cpSync(dir, copy, { recursive: true });
    const first = listMigrations(copy)[0]!;
    writeFileSync(join(copy, first.name, 'migration.sql'), `${first.sql}\n-- edited\n`);
    await expect(applyMigrations(url.toString(), copy)).rejects.toThrow(/edited after it was applied/);
  });

  it('rolls back a failing migration whole and records nothing', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'ctxlab-mig-'));
    cpSync(dir, copy, { recursive: true });
    const bad = join(copy, '99999999999999_broken');
    cpSync(join(copy, listMigrations(copy)[0]!.name), bad, { recursive: true });
    writeFileSync(join(bad, 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');
    await expect(applyMigrations(url.toString(), copy)).rejects.toThrow(/99999999999999_broken failed and was rolled back/);
    const t = await sql(`SELECT to_regclass('public.half_done') AS t`, url.toString());
    expect(t.rows[0].t).toBeNull();
  });
});
