/**
 * Guarding outbound HTTP requests to user-supplied URLs (server-side request forgery).
 *
 * Endpoint URLs are user input that workers fetch. Without a guard, a URL can point a worker at
 * the cloud metadata service (credentials), at databases and admin ports on the private network,
 * or at the worker itself. This module:
 *
 * - classifies IP addresses (`isInternalAddress`);
 * - checks a URL before any request (`checkOutboundUrl`): scheme, credentials, internal host
 *   names, and every address the host resolves to;
 * - wraps fetch (`guardedFetch`) so that every redirect hop is checked before it is followed, and
 *   the connection itself re-resolves and re-checks the host at connect time, which defeats DNS
 *   rebinding (a name that resolves to a public address when checked and an internal one when
 *   connected).
 *
 * An admin allow-list (`OutboundPolicy`) lets deliberately internal endpoints through: a URL whose
 * host is allow-listed passes whatever it resolves to, and so does any address inside an
 * allow-listed IP or CIDR. An entry may name a port or a port range (`127.0.0.1:8765`,
 * `10.0.0.0/8:8000-8100`): then only those ports pass, which keeps the other services of an
 * allow-listed host (Redis, PostgreSQL on the same loopback) out of reach; an entry without one
 * allows every port of what it names. One exception: cloud metadata addresses (169.254.169.254,
 * fd00:ec2::254, …) pass only when named exactly — by an exact host name, the IP itself, or a /32
 * or /128 — never because a wildcard host or a wider CIDR such as `fd00::/8` happens to cover them.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';

/** Which internal destinations an admin has allowed. */
export interface OutboundPolicy {
  /**
   * Host names (exact, case-insensitive), `*.example.com` wildcards (any subdomain, not the apex),
   * IP literals (`10.1.2.3`, `::1`) and CIDRs (`10.0.0.0/8`, `fd00::/8`), each optionally with a
   * port or port range: `gpu-box.lab:8000`, `127.0.0.1:8765`, `[::1]:8765`, `10.0.0.0/8:8000-8100`,
   * `[fd00::/8]:8000`.
   */
  allow: string[];
}

/** Resolves a host name to all its addresses, like `dns.promises.lookup(host, { all: true })`. */
export type OutboundLookup = (host: string) => Promise<{ address: string; family: number }[]>;

export interface CheckOutboundOptions {
  /** DNS resolution; defaults to the system resolver. Tests inject their own. */
  lookup?: OutboundLookup;
}

export interface TransportOptions {
  /**
   * The longest a request may wait for its response headers, and for each part of its body after
   * that. Without it, undici's own limits apply (300 s each), which end a long prefill early
   * whatever timeout the caller set: give the caller's request timeout here.
   */
  timeoutMs?: number;
  /** undici's own limits, used where `timeoutMs` is not given. Tests lower them to stand for undici's defaults. */
  transportLimits?: { headersTimeout: number; bodyTimeout: number };
}

export interface GuardedFetchOptions extends CheckOutboundOptions, TransportOptions {
  /** Redirects followed before giving up (default 5). */
  maxRedirects?: number;
}

/** An outbound request was refused before it was made. */
export class OutboundRefusedError extends Error {
  constructor(
    /** The URL refused (without any credentials it carried). */
    public readonly url: string,
    /** Short reason: `loopback`, `cloud metadata`, `internal hostname`, `cannot resolve HOST`, … */
    public readonly reason: string,
    message: string,
    /** The host the URL names, when it was parsed that far. */
    public readonly host?: string,
    /** The address that was refused, when the refusal is about an address. */
    public readonly address?: string,
  ) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

// ---------------------------------------------------------------------------------------------
// Addresses

type Bytes = readonly number[];

interface Range {
  base: Bytes;
  bits: number;
  reason: string;
}

const v4 = (cidr: string, reason: string): Range => {
  const [ip, bits] = cidr.split('/') as [string, string];
  return { base: parseIPv4(ip)!, bits: Number(bits), reason };
};
const v6 = (cidr: string, reason: string): Range => {
  const [ip, bits] = cidr.split('/') as [string, string];
  return { base: parseIPv6(ip)!, bits: Number(bits), reason };
};

const METADATA = 'cloud metadata';

/** IPv4 special-purpose ranges, most specific first. */
const V4_RANGES: Range[] = [
  v4('169.254.169.254/32', METADATA), // AWS, GCP, Azure, OpenStack, …
  v4('169.254.170.2/32', METADATA), // AWS ECS task credentials
  v4('100.100.100.200/32', METADATA), // Alibaba Cloud
  v4('255.255.255.255/32', 'broadcast'),
  v4('0.0.0.0/8', 'unspecified'), // connecting to 0.0.0.0 reaches the local host
  v4('10.0.0.0/8', 'private (RFC 1918)'),
  v4('100.64.0.0/10', 'carrier-grade NAT'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private (RFC 1918)'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation (TEST-NET-1)'),
  v4('192.168.0.0/16', 'private (RFC 1918)'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation (TEST-NET-2)'),
  v4('203.0.113.0/24', 'documentation (TEST-NET-3)'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

/** IPv6 ranges with a fixed meaning (ranges embedding IPv4 are handled in `classify`). */
const V6_RANGES: Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('64:ff9b:1::/48', 'NAT64 (local use)'),
  v6('2001:db8::/32', 'documentation'),
  v6('fd00:ec2::254/128', METADATA), // AWS IMDS over IPv6
  v6('fc00::/7', 'unique local (IPv6)'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
];

const V4_MAPPED = v6('::ffff:0:0/96', 'IPv4-mapped');
const NAT64 = v6('64:ff9b::/96', 'NAT64');
const SIX_TO_FOUR = v6('2002::/16', '6to4');
const GLOBAL_UNICAST = v6('2000::/3', 'global unicast');

/** Parses dotted-decimal IPv4 into 4 bytes, or null. */
function parseIPv4(s: string): number[] | null {
  if (!isIPv4(s)) return null;
  return s.split('.').map(Number);
}

/** Parses an IPv6 address (optionally in brackets, with a zone, or with a dotted IPv4 tail) into 16 bytes, or null. */
function parseIPv6(input: string): number[] | null {
  let s = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!isIPv6(s)) return null;
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = parseIPv4(g);
        if (!b) return [NaN];
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const halves = s.split('::');
  const head = groups(halves[0]!);
  const tail = halves.length > 1 ? groups(halves[1]!) : [];
  const fill = halves.length > 1 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<number>(fill).fill(0), ...tail];
  if (all.length !== 8 || all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Parses any IP literal into 4 or 16 bytes, or null. */
function parseIP(s: string): number[] | null {
  return parseIPv4(s) ?? parseIPv6(s);
}

function inRange(addr: Bytes, base: Bytes, bits: number): boolean {
  if (addr.length !== base.length) return false;
  let left = bits;
  for (let i = 0; i < addr.length && left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((addr[i]! & mask) !== (base[i]! & mask)) return false;
  }
  return true;
}

const formatV4 = (b: Bytes) => b.join('.');

/** The IPv4 address an IPv6 address stands for (mapped, NAT64 or 6to4), if any, with the kind of embedding. */
function embeddedV4(addr: Bytes): { kind: string; v4: number[] } | null {
  if (addr.length !== 16) return null;
  if (inRange(addr, V4_MAPPED.base, V4_MAPPED.bits)) return { kind: 'IPv4-mapped', v4: addr.slice(12) };
  if (inRange(addr, NAT64.base, NAT64.bits)) return { kind: 'NAT64', v4: addr.slice(12) };
  if (inRange(addr, SIX_TO_FOUR.base, SIX_TO_FOUR.bits)) return { kind: '6to4', v4: addr.slice(2, 6) };
  return null;
}

/** Why an address (as bytes) is internal, or null when it is public. */
function classify(addr: Bytes): string | null {
  if (addr.length === 4) return V4_RANGES.find((r) => inRange(addr, r.base, r.bits))?.reason ?? null;
  for (const r of V6_RANGES) if (inRange(addr, r.base, r.bits)) return r.reason;
  const embedded = embeddedV4(addr);
  if (embedded) {
    const reason = classify(embedded.v4);
    return reason === null ? null : `${embedded.kind} ${reason} (${formatV4(embedded.v4)})`;
  }
  if (!inRange(addr, GLOBAL_UNICAST.base, GLOBAL_UNICAST.bits)) return 'reserved';
  return null;
}

/** True for cloud metadata addresses, directly or embedded in an IPv6 address. */
function isMetadata(addr: Bytes): boolean {
  const embedded = embeddedV4(addr);
  const target = embedded ? embedded.v4 : addr;
  const ranges = target.length === 4 ? V4_RANGES : V6_RANGES;
  return ranges.some((r) => r.reason === METADATA && inRange(target, r.base, r.bits));
}

/**
 * Why an IP address must not be reached from the platform — `loopback`, `private (RFC 1918)`,
 * `link-local`, `cloud metadata`, `carrier-grade NAT`, `unique local (IPv6)`, `unspecified`,
 * `multicast`, `reserved`, `documentation (…)`, `benchmarking`, `broadcast`, or for IPv6 addresses
 * that embed an IPv4 one, e.g. `IPv4-mapped loopback (127.0.0.1)` — or null for a public address.
 * Accepts IPv6 in brackets or with a zone. A string that is not an IP address is reported as
 * `not an IP address` rather than passed as public.
 */
export function isInternalAddress(ip: string): string | null {
  const addr = parseIP(ip);
  if (!addr) return 'not an IP address';
  return classify(addr);
}

/**
 * A test for addresses inside any of `entries` — IP addresses and CIDRs (`10.0.0.5`, `::1`,
 * `10.0.0.0/8`, `fd00::/8`), an IPv4-mapped IPv6 address counting as its IPv4 one. Throws naming
 * the first entry that is neither. For lists of trusted peers such as reverse proxies.
 */
export function addressMatcher(entries: readonly string[]): (ip: string) => boolean {
  const ranges = entries.map((entry) => {
    const [ip = '', bitsText] = entry.trim().split('/');
    const base = parseIP(ip);
    const bits = bitsText === undefined ? (base?.length ?? 0) * 8 : Number(bitsText);
    if (!base || (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) || bits > base.length * 8) throw new Error(`"${entry}" is not an IP address or CIDR (e.g. 10.0.0.5, 10.0.0.0/8 or fd00::/8)`);
    return { base: unmapV4(base), bits: base.length === 16 && bits >= 96 && inRange(base, V4_MAPPED.base, 96) ? bits - 96 : bits };
  });
  return (ip) => {
    const addr = parseIP(ip.trim());
    return addr !== null && ranges.some((r) => inRange(unmapV4(addr), r.base, r.bits));
  };
}

/** The IPv4 address an IPv4-mapped IPv6 address stands for; any other address as it is. */
const unmapV4 = (addr: Bytes): Bytes => (addr.length === 16 && inRange(addr, V4_MAPPED.base, 96) ? addr.slice(12) : addr);

// ---------------------------------------------------------------------------------------------
// Allow-list

/** Ports an entry allows, inclusive; null: every port. */
type Ports = { first: number; last: number } | null;

interface CompiledPolicy {
  hosts: { host: string; ports: Ports }[];
  suffixes: { suffix: string; ports: Ports }[];
  ranges: { base: Bytes; bits: number; exact: boolean; ports: Ports }[];
}

const portAllowed = (ports: Ports, port: number) => ports === null || (port >= ports.first && port <= ports.last);

/** Lower-cases a host, strips IPv6 brackets and one trailing dot. */
function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

function isHostName(h: string): boolean {
  return h.length > 0 && h.length <= 253 && h.split('.').every((label) => HOST_LABEL.test(label));
}

type AllowEntry = ({ kind: 'host'; host: string } | { kind: 'suffix'; suffix: string } | { kind: 'range'; base: Bytes; bits: number }) & { ports: Ports };

const PORTS = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/**
 * Splits `target:ports` (IPv6 in brackets: `[::1]:8765`, `[fd00::/8]:8000`); a bare IPv6 literal
 * or CIDR (`::1`, `fd00::/8`) has no port. Returns the target and its ports, or why not.
 */
function splitPorts(entry: string): { target: string; ports: Ports } | string {
  const e = entry.trim().toLowerCase();
  let target = e;
  let portText: string | undefined;
  if (e.startsWith('[')) {
    const close = e.indexOf(']');
    if (close < 0) return `allow-list entry "${entry}" has no closing ]`;
    const rest = e.slice(close + 1);
    const colon = rest.lastIndexOf(':');
    // `[fd00::]/8:8000` as well as `[fd00::/8]:8000`.
    target = e.slice(1, close) + (colon >= 0 ? rest.slice(0, colon) : rest);
    if (colon >= 0) portText = rest.slice(colon + 1);
  } else if (e.indexOf(':') >= 0 && e.indexOf(':') === e.lastIndexOf(':')) {
    target = e.slice(0, e.indexOf(':'));
    portText = e.slice(e.indexOf(':') + 1);
  }
  if (portText === undefined) return { target, ports: null };
  const m = PORTS.exec(portText);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (!m || first < 1 || last > 65_535 || first > last) return `allow-list entry "${entry}": "${portText}" is not a port (1-65535) or a port range such as 8000-8100`;
  return { target, ports: { first, last } };
}

function parseAllowEntry(entry: string): AllowEntry | string {
  const split = splitPorts(entry);
  if (typeof split === 'string') return split;
  const { ports } = split;
  const e = normalizeHost(split.target);
  if (e === '') return 'an allow-list entry is empty';
  const slash = e.indexOf('/');
  if (slash >= 0) {
    const base = parseIP(e.slice(0, slash));
    const bitsText = e.slice(slash + 1);
    const bits = Number(bitsText);
    if (!base || !/^\d{1,3}$/.test(bitsText) || bits > base.length * 8) return `allow-list entry "${entry}" is not a valid CIDR (e.g. 10.0.0.0/8 or fd00::/8)`;
    return { kind: 'range', base, bits, ports };
  }
  const ip = parseIP(e);
  if (ip) return { kind: 'range', base: ip, bits: ip.length * 8, ports };
  if (e.startsWith('*.')) {
    const suffix = e.slice(2);
    if (!isHostName(suffix) || !suffix.includes('.')) return `allow-list entry "${entry}" is not a valid wildcard; write *.example.com`;
    return { kind: 'suffix', suffix: `.${suffix}`, ports };
  }
  if (!isHostName(e)) return `allow-list entry "${entry}" is not a host name, IP address or CIDR (optionally with :PORT or :FIRST-LAST)`;
  return { kind: 'host', host: e, ports };
}

/**
 * Why an allow-list entry is invalid, or null when it is a valid host name, `*.` wildcard, IP
 * address or CIDR, optionally with a port or port range. For validating admin input before it is saved.
 */
export function allowEntryProblem(entry: string): string | null {
  const parsed = parseAllowEntry(entry);
  return typeof parsed === 'string' ? parsed : null;
}

const compiled = new WeakMap<OutboundPolicy, { source: string; policy: CompiledPolicy }>();

function compile(policy: OutboundPolicy): CompiledPolicy {
  const source = JSON.stringify(policy.allow);
  const cached = compiled.get(policy);
  if (cached && cached.source === source) return cached.policy;
  const out: CompiledPolicy = { hosts: [], suffixes: [], ranges: [] };
  for (const entry of policy.allow) {
    const parsed = parseAllowEntry(entry);
    if (typeof parsed === 'string') throw new Error(`outbound policy: ${parsed}`);
    const { ports } = parsed;
    if (parsed.kind === 'host') out.hosts.push({ host: parsed.host, ports });
    else if (parsed.kind === 'suffix') out.suffixes.push({ suffix: parsed.suffix, ports });
    else {
      // An IPv4-mapped IPv6 entry stands for its IPv4 range.
      const mapped = parsed.base.length === 16 && parsed.bits >= 96 && inRange(parsed.base, V4_MAPPED.base, 96);
      const base = mapped ? parsed.base.slice(12) : parsed.base;
      const bits = mapped ? parsed.bits - 96 : parsed.bits;
      out.ranges.push({ base, bits, exact: bits === base.length * 8, ports });
    }
  }
  compiled.set(policy, { source, policy: out });
  return out;
}

/** How a host name is allow-listed for a port: by exact name, by wildcard, or not at all. */
function hostAllowance(policy: CompiledPolicy, host: string, port: number): 'exact' | 'wildcard' | null {
  if (policy.hosts.some((h) => h.host === host && portAllowed(h.ports, port))) return 'exact';
  if (policy.suffixes.some((s) => host.endsWith(s.suffix) && host.length > s.suffix.length && portAllowed(s.ports, port))) return 'wildcard';
  return null;
}

/** How an address is allow-listed for a port: exactly (the IP, /32 or /128), by a wider range, or not at all. */
function addressAllowance(policy: CompiledPolicy, addr: Bytes, port: number): 'exact' | 'range' | null {
  const embedded = unmapV4(addr);
  let best: 'exact' | 'range' | null = null;
  for (const r of policy.ranges) {
    if (!portAllowed(r.ports, port) || !inRange(embedded, r.base, r.bits)) continue;
    if (r.exact) return 'exact';
    best = 'range';
  }
  return best;
}

/** Host names that name internal services whatever they resolve to. */
const INTERNAL_NAMES = new Set(['localhost', 'metadata', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal']);
const INTERNAL_SUFFIXES = ['.localhost', '.internal', '.local', '.home.arpa'];

function isInternalName(host: string): boolean {
  return INTERNAL_NAMES.has(host) || INTERNAL_SUFFIXES.some((s) => host.endsWith(s));
}

// ---------------------------------------------------------------------------------------------
// Checks

const allowHint = (host: string, port?: number) =>
  `If this endpoint is meant to be internal, an admin can add "${port === undefined ? host : `${isIPv6(host) ? `[${host}]` : host}:${port}`}" to the outbound allow-list.`;

/** Refusal of a host name that names an internal service (`localhost`, `*.internal`, …). */
const internalNameRefusal = (url: string, host: string, port: number) =>
  new OutboundRefusedError(url, 'internal hostname', `Refusing to connect to ${host} port ${port}: it names an internal service. ${allowHint(host, port)}`, host);

/** Refusal of a host the resolver failed on, with its error code when it gave one. */
function unresolvedRefusal(url: string, host: string, err: unknown): OutboundRefusedError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new OutboundRefusedError(url, `cannot resolve ${host}`, `cannot resolve ${host}${code ? ` (${code})` : ''}`, host);
}

/** Strips credentials from a URL for error messages and fields. */
function safeUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/**
 * Refusal for one address a host resolved to, or null when it may be reached on `port`. `host` is
 * the normalised host name (or IP literal) the request names.
 */
function screenAddress(policy: CompiledPolicy, url: string, host: string, address: string, port: number): OutboundRefusedError | null {
  const addr = parseIP(address);
  if (!addr) return new OutboundRefusedError(url, 'not an IP address', `Refusing to connect to ${host}: it resolved to "${address}", which is not an IP address.`, host, address);
  const reason = classify(addr);
  if (reason === null) return null;
  const byHost = isIP(host) ? null : hostAllowance(policy, host, port);
  const byAddress = addressAllowance(policy, addr, port);
  if (isMetadata(addr)) {
    if (byHost === 'exact' || byAddress === 'exact') return null;
  } else if (byHost || byAddress) {
    return null;
  }
  const at = address === host ? '' : ` at ${address}`;
  return new OutboundRefusedError(url, reason, `Refusing to connect to ${host}${at} port ${port}: ${reason} address. ${allowHint(host, port)}`, host, address);
}

const defaultLookup: OutboundLookup = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

async function resolveHost(url: string, host: string, lookup: OutboundLookup): Promise<string[]> {
  let found: { address: string; family: number }[];
  try {
    found = await lookup(host);
  } catch (e) {
    throw unresolvedRefusal(url, host, e);
  }
  if (found.length === 0) throw new OutboundRefusedError(url, `cannot resolve ${host}`, `cannot resolve ${host} (no addresses)`, host);
  return found.map((a) => a.address);
}

/**
 * Checks that a URL may be fetched from the platform, resolving its host. Refuses — with an
 * OutboundRefusedError naming the host, the address and why — anything but http(s), URLs with
 * credentials, internal host names (`localhost`, `*.localhost`, `metadata`, `*.internal`,
 * `*.local`, …) and hosts with any internal address, unless the allow-list permits them.
 * A host that cannot be resolved is refused with reason `cannot resolve HOST`.
 *
 * Passing this check is not enough on its own: DNS can change before the connection is made.
 * Use `guardedFetch`, which re-checks at connect time.
 */
export async function checkOutboundUrl(url: string | URL, policy: OutboundPolicy, opts: CheckOutboundOptions = {}): Promise<{ url: URL; addresses: string[] }> {
  const compiledPolicy = compile(policy);
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new OutboundRefusedError(String(url), 'invalid URL', 'the endpoint URL is not a valid absolute URL');
  }
  const href = safeUrl(parsed);
  const host = normalizeHost(parsed.hostname);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    const reason = 'only http and https URLs can be endpoints';
    throw new OutboundRefusedError(href, reason, `${reason}; this one uses ${parsed.protocol.replace(/:$/, '')}`, host);
  }
  if (parsed.username || parsed.password) {
    throw new OutboundRefusedError(href, 'credentials in the URL', `URLs with a user name or password (user:password@${host}) cannot be endpoints; remove them and store the key as the endpoint's API key.`, host);
  }
  if (host === '') throw new OutboundRefusedError(href, 'invalid URL', 'the endpoint URL has no host');
  const port = urlPort(parsed);

  if (isIP(host)) {
    const refusal = screenAddress(compiledPolicy, href, host, host, port);
    if (refusal) throw refusal;
    return { url: parsed, addresses: [host] };
  }

  const byHost = hostAllowance(compiledPolicy, host, port);
  if (!byHost && isInternalName(host)) throw internalNameRefusal(href, host, port);
  let addresses: string[];
  try {
    addresses = await resolveHost(href, host, opts.lookup ?? defaultLookup);
  } catch (e) {
    // An admin vouched for this name, which may resolve only where the workers run (a cluster's
    // service names): accepted unresolved here; the connection is still checked when it is made.
    if (byHost && e instanceof OutboundRefusedError && e.reason.startsWith('cannot resolve')) return { url: parsed, addresses: [] };
    throw e;
  }
  for (const address of addresses) {
    const refusal = screenAddress(compiledPolicy, href, host, address, port);
    if (refusal) throw refusal;
  }
  return { url: parsed, addresses };
}

/** The port a URL connects to, its scheme's default when it names none. */
const urlPort = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

// ---------------------------------------------------------------------------------------------
// Fetch

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls connect options that resolves the host again and refuses internal
 * addresses, so the address connected to is one that passed the policy for the port connected to.
 */
function pinnedLookup(policy: OutboundPolicy, lookup: OutboundLookup, port: number) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const host = normalizeHost(hostname);
    const label = `connection to ${host}:${port}`;
    const compiledPolicy = compile(policy);
    const byHost = hostAllowance(compiledPolicy, host, port);
    const refuseName = !byHost && isInternalName(host);
    const run = async (): Promise<LookupAddress[]> => {
      if (refuseName) throw internalNameRefusal(label, host, port);
      const found = (await lookup(host).catch((e: unknown) => {
        throw unresolvedRefusal(label, host, e);
      })).map((a) => ({ address: a.address, family: a.family === 6 || isIPv6(a.address) ? 6 : 4 }));
      for (const a of found) {
        const refusal = screenAddress(compiledPolicy, label, host, a.address, port);
        if (refusal) throw refusal;
      }
      const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
      const usable = family ? found.filter((a) => a.family === family) : found;
      if (usable.length === 0) throw new OutboundRefusedError(label, `cannot resolve ${host}`, `cannot resolve ${host} (no IPv${family} addresses)`, host);
      return usable;
    };
    run().then(
      (addresses) => (options.all ? callback(null, addresses) : callback(null, addresses[0]!.address, addresses[0]!.family)),
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

/** The first OutboundRefusedError in an error's cause chain, if any. */
function findRefusal(err: unknown): OutboundRefusedError | null {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e; depth++) {
    if (e instanceof OutboundRefusedError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry credentials; not forwarded when a redirect leaves the origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/**
 * A fetch that only reaches what `checkOutboundUrl` allows under `policy`:
 *
 * - every URL, including each redirect target, is checked before it is requested;
 * - redirects (301, 302, 303, 307, 308) are followed here, up to `maxRedirects` (default 5), with
 *   the fetch standard's method rules (303, and 301/302 after POST, become GET without a body);
 *   credential headers (Authorization, Cookie, X-Api-Key, …) are dropped when a redirect leaves
 *   the origin; `redirect: 'manual'` returns the 3xx response and `redirect: 'error'` throws;
 * - connections resolve the host again at connect time and refuse internal addresses, so a DNS
 *   answer that changes after the check cannot redirect the connection.
 *
 * Refusals reject with OutboundRefusedError (unwrapped from fetch's generic "fetch failed").
 * Requests go through undici with its own connection pool; responses are undici Response objects
 * (same interface as the global Response, different class). Environment proxy settings are not
 * used, since a proxy would connect on the platform's behalf unchecked.
 */
export function guardedFetch(policy: OutboundPolicy, opts: GuardedFetchOptions = {}): typeof fetch {
  const lookup = opts.lookup ?? defaultLookup;
  const maxRedirects = opts.maxRedirects ?? 5;
  compile(policy); // Surface an invalid allow-list now rather than on first use.
  // The connector re-checks at connect time with the port it connects to (a lookup alone never sees it).
  const connectors = new Map<number, buildConnector.connector>();
  const connect: buildConnector.connector = (options, callback) => {
    const port = options.port ? Number(options.port) : options.protocol === 'https:' ? 443 : 80;
    let c = connectors.get(port);
    if (!c) connectors.set(port, (c = buildConnector({ lookup: pinnedLookup(policy, lookup, port) })));
    return c(options, callback);
  };
  const agent = transportAgent(opts, connect);

  const guarded = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    let url: string;
    let method = init.method;
    let headers = new Headers(init.headers);
    let body: BodyInit | null | undefined = init.body;
    let signal = init.signal ?? undefined;
    if (typeof input === 'string' || input instanceof URL) {
      url = String(input);
    } else {
      url = input.url;
      method ??= input.method;
      if (init.headers === undefined) headers = new Headers(input.headers);
      if (body === undefined && input.body !== null) body = await input.arrayBuffer();
      signal ??= input.signal;
    }
    method = (method ?? 'GET').toUpperCase();
    const mode = init.redirect ?? 'follow';
    const start = url;

    for (let hop = 0; ; hop++) {
      await checkOutboundUrl(url, policy, { lookup });
      let res: Response;
      try {
        const request: UndiciRequestInit = {
          ...(init as UndiciRequestInit),
          method,
          headers: [...headers],
          body: (body ?? null) as UndiciRequestInit['body'],
          signal: signal ?? null,
          redirect: 'manual',
          dispatcher: agent,
        };
        res = (await undiciFetch(url, request)) as unknown as Response;
      } catch (err) {
        throw findRefusal(err) ?? err;
      }
      const location = res.headers.get('location');
      if (!REDIRECTS.has(res.status) || location === null || mode === 'manual') return res;
      await res.body?.cancel().catch(() => undefined);
      if (mode === 'error') throw new TypeError(`${url} redirected (${res.status}) and the request asked for redirect: 'error'`);
      if (hop >= maxRedirects) throw new TypeError(`too many redirects: gave up after ${maxRedirects} starting from ${safeUrlString(start)}`);

      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new TypeError(`${url} redirected to an invalid URL`);
      }
      if (res.status === 303 ? method !== 'HEAD' : (res.status === 301 || res.status === 302) && method === 'POST') {
        method = 'GET';
        body = null;
        for (const h of BODY_HEADERS) headers.delete(h);
      } else if (body instanceof ReadableStream) {
        throw new TypeError(`${url} redirected (${res.status}) a request whose streamed body cannot be sent again`);
      }
      if (next.origin !== new URL(url).origin) for (const h of CREDENTIAL_HEADERS) headers.delete(h);
      url = next.href;
    }
  };
  return guarded as typeof fetch;
}

/** undici's own limits on waiting for response headers and for body data (undici's defaults). */
const UNDICI_LIMITS = { headersTimeout: 300_000, bodyTimeout: 300_000 };

/** An undici connection pool whose waiting limits follow the request timeout (see TransportOptions). */
function transportAgent(opts: TransportOptions, connect?: Agent.Options['connect']): Agent {
  const limits = opts.timeoutMs === undefined ? (opts.transportLimits ?? UNDICI_LIMITS) : { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs };
  return new Agent({ ...limits, ...(connect ? { connect } : {}) });
}

/**
 * fetch through undici with limits that follow `timeoutMs`, for servers a user names directly
 * from their own machine (the CLI's `niah run`), where no outbound policy applies. The global
 * fetch would end any request after undici's 300 s.
 */
export function timedFetch(opts: TransportOptions): typeof fetch {
  const agent = transportAgent(opts);
  return ((input: RequestInfo | URL, init: RequestInit = {}) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as UndiciRequestInit), dispatcher: agent })) as unknown as typeof fetch;
}

function safeUrlString(s: string): string {
  try {
    return safeUrl(new URL(s));
  } catch {
    return 'an invalid URL';
  }
}

const shared = new Map<string, typeof fetch>();
/**
 * `guardedFetch` for an allow-list and request timeout, made once per distinct pair and reused:
 * each one holds a connection pool, so callers that build the policy per request or per job
 * should use this.
 */
export function sharedGuardedFetch(allow: readonly string[], opts: Pick<TransportOptions, 'timeoutMs'> = {}): typeof fetch {
  const key = `${opts.timeoutMs ?? ''}|${[...new Set(allow)].sort().join(',')}`;
  let f = shared.get(key);
  if (!f) {
    if (shared.size >= 32) shared.clear();
    shared.set(key, (f = guardedFetch({ allow: [...allow] }, opts)));
  }
  return f;
}
