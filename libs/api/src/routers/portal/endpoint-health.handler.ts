/**
 * Asks an OpenAI-compatible server which models it serves (GET /v1/models) with a short timeout.
 * Every outcome is an answer — unreachable, slow, an HTTP error, not JSON, the wrong shape — with
 * words a person can act on; a failing server is never a 500 from ctxlab. What the server sent is
 * never repeated unless it is an OpenAI model list: a URL can name any service an admin
 * allow-listed, and its answer must not become a way to read that service.
 */
import { OutboundRefusedError } from '@ctxlab/security';
import type { ApiDeps } from '../../deps';
import { decryptApiKey, outboundFetch } from '../../auth/outbound';
import { z } from 'zod';
import type { EndpointHealthInput } from './schemas';

export const HEALTH_TIMEOUT_MS = 3000;

const modelsResponse = z.object({ data: z.array(z.object({ id: z.string() }).passthrough()) });

/** `http://h:8000`, `http://h:8000/` and `http://h:8000/v1` all mean the same API base. */
export function modelsUrl(base: string): string {
  const b = base.replace(/\/+$/, '');
  return /\/v1$/.test(b) ? `${b}/models` : `${b}/v1/models`;
}

function describeFailure(e: unknown, url: string): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer from ${url} within ${HEALTH_TIMEOUT_MS / 1000} s`;
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return `connection refused by ${new URL(url).host}: is the server running on that port?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host ${new URL(url).hostname} could not be resolved`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `${new URL(url).host} closed the connection`;
  return `could not reach ${url}: ${err.cause?.message ?? err.message ?? String(e)}`;
}

export interface EndpointHealth {
  ok: boolean;
  url: string;
  models: string[];
  /** Whether the endpoint's served model name is among them (null when none was given). */
  servedModelListed: boolean | null;
  latencyMs: number;
  error: string | null;
  checkedAt: Date;
}

export async function checkEndpoint(base: string, servedModelName: string | undefined, fetchImpl: typeof fetch = fetch, apiKey?: string): Promise<EndpointHealth> {
  const url = modelsUrl(base);
  const t0 = performance.now();
  const done = (r: Omit<EndpointHealth, 'url' | 'latencyMs' | 'checkedAt'>): EndpointHealth => ({ ...r, url, latencyMs: Math.round(performance.now() - t0), checkedAt: new Date() });
  let res: Response;
  try {
    res = await fetchImpl(url, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS), headers: { accept: 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) } });
  } catch (e) {
    // A refusal by the outbound guard already says what and why.
    return done({ ok: false, models: [], servedModelListed: null, error: e instanceof OutboundRefusedError ? e.message : describeFailure(e, url) });
  }
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    return done({ ok: false, models: [], servedModelListed: null, error: describeFailure(e, url) });
  }
  if (!res.ok) {
    const type = res.headers.get('content-type')?.split(';')[0]?.trim();
    const hint = res.status === 401 || res.status === 403 ? ' (check the endpoint\'s API key)' : res.status === 404 ? ' (is the URL the server\'s API base?)' : '';
    return done({ ok: false, models: [], servedModelListed: null, error: `HTTP ${res.status}${type ? ` (${type})` : ''} from ${url}${hint}` });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return done({ ok: false, models: [], servedModelListed: null, error: `${url} did not answer with JSON (is this an OpenAI-compatible server?)` });
  }
  const parsed = modelsResponse.safeParse(body);
  if (!parsed.success) return done({ ok: false, models: [], servedModelListed: null, error: `${url} answered, but not with an OpenAI model list ({ "data": [{ "id": … }] })` });
  const models = parsed.data.data.map((m) => m.id);
  const listed = servedModelName ? models.includes(servedModelName) : null;
  return done({
    ok: true,
    models,
    servedModelListed: listed,
    error: listed === false ? `the server does not list the served model name "${servedModelName}" (it serves ${models.join(', ') || 'nothing'})` : null,
  });
}

/**
 * Checks a registered endpoint (and records the outcome on it) or a URL before registering it.
 * The probe refuses internal addresses like the workers do (redirects included), and sends the
 * endpoint's stored API key.
 */
export async function endpointHealth(deps: Pick<ApiDeps, 'repos' | 'outboundAllow' | 'secretKey'>, input: EndpointHealthInput): Promise<EndpointHealth> {
  const guarded = await outboundFetch(deps);
  if ('url' in input) return checkEndpoint(input.url, input.servedModelName, guarded);
  const { repos } = deps;
  const ep = await repos.endpoints.get(input.id);
  const h = await checkEndpoint(ep.url, ep.servedModelName, guarded, decryptApiKey(deps.secretKey, await repos.endpoints.encryptedApiKey(ep.id)));
  await repos.endpoints.recordHealth(ep.id, h.ok ? (h.servedModelListed === false ? 'model missing' : 'ok') : 'unreachable');
  return h;
}
