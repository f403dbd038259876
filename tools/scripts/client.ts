/** The typed tRPC client every script here uses: CTXLAB_URL and CTXLAB_TOKEN from the environment. */
import { createClient } from '@ctxlab/api/client';

/** The portal scripts talk to (and link to): CTXLAB_URL, by default http://localhost:3000. */
export const portalUrl = (env: NodeJS.ProcessEnv = process.env) => env.CTXLAB_URL ?? 'http://localhost:3000';

export function clientFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const url = portalUrl(env);
  const token = env.CTXLAB_TOKEN;
  if (!token) throw new Error('set CTXLAB_TOKEN to an API token (portal → Account → API tokens); CTXLAB_URL is the portal (default http://localhost:3000)');
  return createClient(url, { token });
}

export type Client = ReturnType<typeof clientFromEnv>;

/** `--name value` and `--flag` arguments. */
export function args(argv = process.argv.slice(2)): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        flags[a.slice(2)] = next;
        i++;
      } else flags[a.slice(2)] = true;
    } else positional.push(a);
  }
  return { flags, positional };
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
