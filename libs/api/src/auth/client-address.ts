/**
 * The address a request comes from, for per-address limits (failed sign-ins). X-Forwarded-For is
 * written by whoever sends the request: only the part a trusted proxy appended says anything. So
 * the client is the peer that connected, unless that peer is a trusted proxy; then the nearest
 * address in X-Forwarded-For (read from the right) that is not itself a trusted proxy.
 */
import { addressMatcher } from '@ctxlab/security';

export type TrustedProxies = (ip: string) => boolean;

/** CTXLAB_TRUSTED_PROXIES: comma-separated IPs and CIDRs; empty trusts nobody. Throws naming a bad entry. */
export function parseTrustedProxies(list: string): TrustedProxies {
  const entries = list.split(',').map((x) => x.trim()).filter(Boolean);
  try {
    return addressMatcher(entries);
  } catch (e) {
    throw new Error(`CTXLAB_TRUSTED_PROXIES: ${(e as Error).message}`);
  }
}

/** `::ffff:10.1.2.3` and `10.1.2.3` are one client; brackets and zones are not part of an address. */
function normalize(ip: string): string {
  const s = ip.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(s) ? s.slice(7) : s;
}

/**
 * `peer`: the address of the socket the request arrived on (null when the server could not say:
 * then every such request shares the one key `unknown`, which keeps the limit without trusting a
 * header). `forwardedFor`: the X-Forwarded-For header as received.
 */
export function clientAddress(input: { peer: string | null | undefined; forwardedFor: string | null | undefined }, trusted: TrustedProxies): string {
  if (!input.peer) return 'unknown';
  let client = normalize(input.peer);
  if (!trusted(client)) return client;
  const hops = (input.forwardedFor ?? '').split(',').map(normalize).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i]!;
    if (!trusted(client)) return client;
  }
  return client;
}
