/**
 * Endpoint URLs are user input that workers fetch. They may not point at internal addresses
 * (loopback, private ranges, link-local, cloud metadata) unless an admin allow-lists the host —
 * in the registry (allowedHosts) or for the whole install (CTXLAB_OUTBOUND_ALLOW).
 */
import { badRequest, DomainError } from '@ctxlab/contracts';
import { allowEntryProblem, checkOutboundUrl, decryptSecret, encryptSecret, sharedGuardedFetch, type OutboundPolicy } from '@ctxlab/security';
import type { ApiDeps } from '../deps';

export async function outboundPolicy(deps: Pick<ApiDeps, 'repos' | 'outboundAllow'>): Promise<OutboundPolicy> {
  const hosts = await deps.repos.accounts.allowedHostEntries();
  // A row the guard cannot read (saved before entries were checked on input) allows nothing; it
  // must not make every URL check fail.
  return { allow: [...deps.outboundAllow, ...hosts.filter((h) => allowEntryProblem(h) === null)] };
}

/** BAD_REQUEST naming the field when the URL may not be fetched. */
export async function assertOutboundUrl(deps: Pick<ApiDeps, 'repos' | 'outboundAllow'>, url: string, field = 'url') {
  try {
    await checkOutboundUrl(url, await outboundPolicy(deps));
  } catch (e) {
    // A refusal names the host, the address and why; an invalid allow-list entry says which.
    throw badRequest(`${field}: ${(e as Error).message}`, field);
  }
}

/** A fetch that refuses internal addresses at every hop (redirects included) and at connect time. */
export async function outboundFetch(deps: Pick<ApiDeps, 'repos' | 'outboundAllow'>): Promise<typeof fetch> {
  return sharedGuardedFetch((await outboundPolicy(deps)).allow);
}

export function encryptApiKey(deps: Pick<ApiDeps, 'secretKey'>, apiKey: string): string {
  if (!deps.secretKey) {
    throw new DomainError('PRECONDITION_FAILED', 'storing an endpoint API key needs CTXLAB_SECRET_KEY (32 bytes as 64 hex characters or base64) on the portal and the workers', 'apiKey');
  }
  return encryptSecret(apiKey, deps.secretKey);
}

export function decryptApiKey(secretKey: Buffer | null, stored: string | null): string | undefined {
  if (!stored) return undefined;
  if (!secretKey) throw new Error('this endpoint has an API key but CTXLAB_SECRET_KEY is not set on this process');
  return decryptSecret(stored, secretKey);
}
