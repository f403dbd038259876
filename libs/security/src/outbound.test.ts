import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundRefusedError, allowEntryProblem, checkOutboundUrl, guardedFetch, isInternalAddress, timedFetch, type OutboundLookup } from './outbound';

/** A lookup that answers from a fixed table and fails for anything else, like an NXDOMAIN. */
function fakeDns(table: Record<string, string | string[]>): OutboundLookup {
  return async (host) => {
    const found = table[host];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return (Array.isArray(found) ? found : [found]).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

/** Runs a promise expected to reject with OutboundRefusedError and returns the error. */
async function refusal(p: Promise<unknown>): Promise<OutboundRefusedError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OutboundRefusedError);
    return e as OutboundRefusedError;
  }
  throw new Error('expected the request to be refused');
}

describe('isInternalAddress', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.1.2.3', 'private (RFC 1918)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['100.100.100.200', 'cloud metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.170.2', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation (TEST-NET-1)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation (TEST-NET-2)'],
    ['203.0.113.9', 'documentation (TEST-NET-3)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fc00::1', 'unique local (IPv6)'],
    ['fd12:3456::1', 'unique local (IPv6)'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback (127.0.0.1)'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback (127.0.0.1)'],
    ['::ffff:169.254.169.254', 'IPv4-mapped cloud metadata (169.254.169.254)'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private (RFC 1918) (10.0.0.1)'],
    ['64:ff9b::127.0.0.1', 'NAT64 loopback (127.0.0.1)'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 cloud metadata (169.254.169.254)'],
    ['2002:7f00:1::', '6to4 loopback (127.0.0.1)'],
    ['2001:db8::1', 'documentation'],
    ['::127.0.0.1', 'reserved'],
    ['100::1', 'reserved'],
    ['not-an-ip', 'not an IP address'],
    ['', 'not an IP address'],
  ])('%s → %s', (ip, reason) => {
    expect(isInternalAddress(ip)).toBe(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.167.1.1', '198.20.0.0', '223.255.255.255', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    '%s is public',
    (ip) => {
      expect(isInternalAddress(ip)).toBeNull();
    },
  );
});

describe('allowEntryProblem', () => {
  it.each(['api.example.com', 'EXAMPLE.com.', '*.example.com', '10.0.0.5', '::1', '[fd00::1]', '10.0.0.0/8', 'fd00::/8', '0.0.0.0/0', 'localhost'])('accepts %s', (entry) => {
    expect(allowEntryProblem(entry)).toBeNull();
  });

  it.each(['', '*.com', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/x', 'http://example.com', 'exa mple.com', '*'])('rejects %j', (entry) => {
    expect(allowEntryProblem(entry)).toEqual(expect.any(String));
  });

  it.each(['127.0.0.1:8765', '127.0.0.1:8000-8100', '[::1]:8765', 'host.example:443', '*.corp.test:8000', '10.0.0.0/8:8000', '[fd00::/8]:8000', '[fd00::]/8:8000'])('accepts %s (with a port)', (entry) => {
    expect(allowEntryProblem(entry)).toBeNull();
  });

  it.each(['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:9000-8000', '127.0.0.1:80a', 'host.example:', '[::1', '[::1]8765'])('rejects %j (a bad port)', (entry) => {
    expect(allowEntryProblem(entry)).toEqual(expect.any(String));
  });
});

describe('allow-list entries with a port', () => {
  const dns = fakeDns({ 'gpu.corp.test': '10.20.0.7' });
  const passes = (url: string, allow: string[]) => checkOutboundUrl(url, { allow }, { lookup: dns }).then(() => true, (e: unknown) => (e instanceof OutboundRefusedError ? false : Promise.reject(e)));

  it('127.0.0.1:PORT opens that loopback port only, not Redis, PostgreSQL or the default port', async () => {
    const allow = ['127.0.0.1:8765'];
    expect(await passes('http://127.0.0.1:8765/v1', allow)).toBe(true);
    for (const port of [6379, 5432, 63799, 54329, 8764, 8766]) expect(await passes(`http://127.0.0.1:${port}/`, allow)).toBe(false);
    expect(await passes('http://127.0.0.1/', allow)).toBe(false);
    expect(await passes('http://[::ffff:127.0.0.1]:6379/', allow)).toBe(false);
    const e = await refusal(checkOutboundUrl('http://127.0.0.1:6379/', { allow }));
    expect(e).toMatchObject({ reason: 'loopback', address: '127.0.0.1' });
    expect(e.message).toContain('port 6379');
  });

  it('ranges, IPv6, CIDRs, host names and wildcards take ports too; an entry without one allows every port', async () => {
    expect(await passes('http://127.0.0.1:8100/', ['127.0.0.1:8000-8100'])).toBe(true);
    expect(await passes('http://127.0.0.1:8101/', ['127.0.0.1:8000-8100'])).toBe(false);
    expect(await passes('http://[::1]:8765/', ['[::1]:8765'])).toBe(true);
    expect(await passes('http://[::1]:6379/', ['[::1]:8765'])).toBe(false);
    expect(await passes('http://10.1.2.3:8000/', ['10.0.0.0/8:8000'])).toBe(true);
    expect(await passes('http://10.1.2.3:22/', ['10.0.0.0/8:8000'])).toBe(false);
    expect(await passes('https://gpu.corp.test/', ['gpu.corp.test:443'])).toBe(true);
    expect(await passes('http://gpu.corp.test/', ['gpu.corp.test:443'])).toBe(false);
    expect(await passes('http://gpu.corp.test:8000/', ['*.corp.test:8000'])).toBe(true);
    expect(await passes('http://gpu.corp.test:8001/', ['*.corp.test:8000'])).toBe(false);
    expect(await passes('http://127.0.0.1:6379/', ['127.0.0.1'])).toBe(true);
  });
});

describe('checkOutboundUrl', () => {
  const none = { allow: [] };
  const publicDns = fakeDns({ 'api.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'], 'evil.example.com': ['93.184.215.14', '10.0.0.5'], 'rebind.example.com': '10.0.0.5', 'gpu.corp.test': '10.20.0.7', 'v6.corp.test': 'fd12::7' });

  it('passes a public host and returns its addresses', async () => {
    const r = await checkOutboundUrl('https://API.example.com/v1/chat', none, { lookup: publicDns });
    expect(r.url.href).toBe('https://api.example.com/v1/chat');
    expect(r.addresses).toEqual(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata', '169.254.169.254'],
    ['http://[::1]:1/', 'loopback', '::1'],
    ['http://10.1.2.3/', 'private (RFC 1918)', '10.1.2.3'],
    ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped loopback (127.0.0.1)', '::ffff:7f00:1'],
    ['http://[fd00:ec2::254]/', 'cloud metadata', 'fd00:ec2::254'],
    ['http://0.0.0.0:8080/', 'unspecified', '0.0.0.0'],
    ['http://2130706433/', 'loopback', '127.0.0.1'], // the URL parser reads decimal IPv4
    ['http://0x7f.1/', 'loopback', '127.0.0.1'],
  ])('refuses %s as %s', async (url, reason, address) => {
    const e = await refusal(checkOutboundUrl(url, none, { lookup: publicDns }));
    expect(e.reason).toBe(reason);
    expect(e.address).toBe(address);
    expect(e.message).toContain(address);
    expect(e.message).toContain(reason);
    expect(e.message).toMatch(/an admin can add ".+" to the outbound allow-list/);
  });

  it('refuses schemes other than http and https', async () => {
    for (const url of ['ftp://x', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)', 'data:text/plain,hi']) {
      const e = await refusal(checkOutboundUrl(url, none, { lookup: publicDns }));
      expect(e.reason).toBe('only http and https URLs can be endpoints');
      expect(e.message).toMatch(/^only http and https URLs can be endpoints/);
    }
  });

  it('refuses credentials in the URL without repeating them', async () => {
    const e = await refusal(checkOutboundUrl('http://user:pw@host/', none, { lookup: publicDns }));
    expect(e.reason).toBe('credentials in the URL');
    expect(e.url).toBe('http://host/');
    expect(e.message).not.toContain('pw');
  });

  it('refuses something that is not a URL', async () => {
    expect((await refusal(checkOutboundUrl('not a url', none))).reason).toBe('invalid URL');
  });

  it.each(['localhost', 'LOCALHOST.', 'app.localhost', 'metadata', 'metadata.google.internal', 'db.internal', 'printer.local', 'instance-data'])('refuses the internal host name %s without resolving it', async (host) => {
    let resolved = false;
    const e = await refusal(
      checkOutboundUrl(`http://${host}/`, none, {
        lookup: async () => {
          resolved = true;
          return [{ address: '93.184.215.14', family: 4 }];
        },
      }),
    );
    expect(e.reason).toBe('internal hostname');
    expect(resolved).toBe(false);
  });

  it('refuses a host name that resolves to an internal address, naming host, address and reason', async () => {
    const e = await refusal(checkOutboundUrl('https://rebind.example.com/v1', none, { lookup: publicDns }));
    expect(e).toMatchObject({ reason: 'private (RFC 1918)', host: 'rebind.example.com', address: '10.0.0.5', url: 'https://rebind.example.com/v1' });
    expect(e.message).toBe('Refusing to connect to rebind.example.com at 10.0.0.5 port 443: private (RFC 1918) address. If this endpoint is meant to be internal, an admin can add "rebind.example.com:443" to the outbound allow-list.');
  });

  it('refuses when any one of several addresses is internal', async () => {
    const e = await refusal(checkOutboundUrl('https://evil.example.com/', none, { lookup: publicDns }));
    expect(e.address).toBe('10.0.0.5');
  });

  it('reports a DNS failure as "cannot resolve HOST"', async () => {
    const e = await refusal(checkOutboundUrl('https://nowhere.example.com/', none, { lookup: publicDns }));
    expect(e.reason).toBe('cannot resolve nowhere.example.com');
    expect(e.message).toBe('cannot resolve nowhere.example.com (ENOTFOUND)');
  });

  describe('allow-list', () => {
    it('passes an allow-listed host whatever it resolves to, case-insensitively', async () => {
      await expect(checkOutboundUrl('http://rebind.example.com/', { allow: ['REBIND.example.com'] }, { lookup: publicDns })).resolves.toMatchObject({ addresses: ['10.0.0.5'] });
      await expect(checkOutboundUrl('http://localhost:3000/', { allow: ['localhost'] }, { lookup: fakeDns({ localhost: '127.0.0.1' }) })).resolves.toMatchObject({ addresses: ['127.0.0.1'] });
    });

    it('passes allow-listed IP literals, including IPv6', async () => {
      await expect(checkOutboundUrl('http://10.1.2.3/', { allow: ['10.1.2.3'] })).resolves.toMatchObject({ addresses: ['10.1.2.3'] });
      await expect(checkOutboundUrl('http://[::1]:8000/', { allow: ['::1'] })).resolves.toMatchObject({ addresses: ['::1'] });
      await expect(checkOutboundUrl('http://10.1.2.4/', { allow: ['10.1.2.3'] })).rejects.toThrow(OutboundRefusedError);
    });

    it('wildcards match subdomains but not the apex or look-alikes', async () => {
      const policy = { allow: ['*.corp.test'] };
      const dns = fakeDns({ 'gpu.corp.test': '10.20.0.7', 'a.b.corp.test': '10.20.0.8', 'corp.test': '10.20.0.1', 'evilcorp.test': '10.20.0.9', 'db.corp.internal': '10.20.0.2' });
      await expect(checkOutboundUrl('http://gpu.corp.test/', policy, { lookup: dns })).resolves.toMatchObject({ addresses: ['10.20.0.7'] });
      await expect(checkOutboundUrl('http://a.b.corp.test/', policy, { lookup: dns })).resolves.toMatchObject({ addresses: ['10.20.0.8'] });
      await expect(checkOutboundUrl('http://corp.test/', policy, { lookup: dns })).rejects.toThrow(/private/);
      await expect(checkOutboundUrl('http://evilcorp.test/', policy, { lookup: dns })).rejects.toThrow(/private/);
    });

    it('an allow-listed wildcard also lifts the internal-name rule', async () => {
      const dns = fakeDns({ 'db.corp.internal': '10.20.0.2' });
      await expect(checkOutboundUrl('http://db.corp.internal/', { allow: ['*.corp.internal'] }, { lookup: dns })).resolves.toMatchObject({ addresses: ['10.20.0.2'] });
    });

    it('CIDRs admit the addresses inside them, for host names and IP literals', async () => {
      await expect(checkOutboundUrl('http://gpu.corp.test/', { allow: ['10.0.0.0/8'] }, { lookup: publicDns })).resolves.toMatchObject({ addresses: ['10.20.0.7'] });
      await expect(checkOutboundUrl('http://10.255.0.1/', { allow: ['10.0.0.0/8'] })).resolves.toBeTruthy();
      await expect(checkOutboundUrl('http://[::ffff:10.0.0.1]/', { allow: ['10.0.0.0/8'] })).resolves.toBeTruthy();
      await expect(checkOutboundUrl('http://v6.corp.test/', { allow: ['fd00::/8'] }, { lookup: publicDns })).resolves.toMatchObject({ addresses: ['fd12::7'] });
      await expect(checkOutboundUrl('http://192.168.0.1/', { allow: ['10.0.0.0/8'] })).rejects.toThrow(/RFC 1918/);
      await expect(checkOutboundUrl('http://[fe80::1]/', { allow: ['fd00::/8'] })).rejects.toThrow(/link-local/);
    });

    it('cloud metadata passes only when named exactly, never through a wider CIDR or a wildcard', async () => {
      await expect(checkOutboundUrl('http://[fd00:ec2::254]/', { allow: ['fd00::/8'] })).rejects.toThrow(/cloud metadata/);
      await expect(checkOutboundUrl('http://169.254.169.254/', { allow: ['169.254.0.0/16'] })).rejects.toThrow(/cloud metadata/);
      await expect(checkOutboundUrl('http://meta.corp.test/', { allow: ['*.corp.test'] }, { lookup: fakeDns({ 'meta.corp.test': '169.254.169.254' }) })).rejects.toThrow(/cloud metadata/);
      await expect(checkOutboundUrl('http://169.254.169.254/', { allow: ['169.254.169.254'] })).resolves.toBeTruthy();
      await expect(checkOutboundUrl('http://169.254.169.254/', { allow: ['169.254.169.254/32'] })).resolves.toBeTruthy();
      await expect(checkOutboundUrl('http://meta.corp.test/', { allow: ['meta.corp.test'] }, { lookup: fakeDns({ 'meta.corp.test': '169.254.169.254' }) })).resolves.toBeTruthy();
    });

    it('refuses a policy with an invalid entry, naming it', async () => {
      await expect(checkOutboundUrl('http://example.com/', { allow: ['10.0.0.0/40'] })).rejects.toThrow(/allow-list entry "10.0.0.0\/40" is not a valid CIDR/);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// guardedFetch against real sockets

interface TestServer {
  server: Server;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Requests received so far, as "METHOD path". */
  requests: string[];
}

async function listen(host: string, handler: (req: IncomingMessage, res: ServerResponse, self: TestServer) => void): Promise<TestServer | null> {
  const self: TestServer = { server: createServer((req, res) => handler(req, res, self)), port: 0, connections: 0, requests: [] };
  self.server.on('connection', () => self.connections++);
  try {
    await new Promise<void>((resolve, reject) => {
      self.server.once('error', reject);
      self.server.listen(0, host, () => resolve());
    });
  } catch {
    return null;
  }
  self.port = (self.server.address() as AddressInfo).port;
  return self;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('guardedFetch', () => {
  let a: TestServer;
  /** A second server on 127.0.0.2 where the OS allows it; otherwise only its address is used. */
  let b: TestServer | null;
  let bPort: number;

  beforeAll(async () => {
    a = (await listen('127.0.0.1', (req, res, self) => {
      const url = req.url ?? '/';
      self.requests.push(`${req.method} ${url}`);
      const redirect = (status: number, location: string) => res.writeHead(status, { location }).end();
      if (url === '/ok') return res.end('hello');
      // Held answers: the headers, or the rest of the body, come 2 s late.
      if (url === '/slow-headers') return void setTimeout(() => res.end('late headers'), 2_000);
      if (url === '/slow-body') {
        res.writeHead(200).write('late ');
        return void setTimeout(() => res.end('body'), 2_000);
      }
      if (url === '/to-second') return redirect(302, `http://127.0.0.2:${bPort}/ok`);
      if (url.startsWith('/to-port/')) return redirect(302, `http://127.0.0.1:${url.slice('/to-port/'.length)}/ok`);
      if (url === '/to-metadata') return redirect(302, 'http://169.254.169.254/latest/meta-data/');
      if (url === '/to-mapped') return redirect(307, `http://[::ffff:127.0.0.1]:${self.port}/ok`);
      if (url === '/chain/1') return redirect(301, '/chain/2');
      if (url === '/chain/2') return redirect(308, `http://127.0.0.1:${self.port}/chain/3`);
      if (url === '/chain/3') return redirect(307, 'ok-final');
      if (url === '/chain/ok-final') return res.end('final body');
      if (url === '/to-named') return redirect(302, `http://svc.corp.test:${self.port}/echo`);
      if (url === '/see-other') return redirect(303, '/echo');
      if (url === '/temporary') return redirect(307, '/echo');
      if (url === '/loop') return redirect(302, '/loop');
      if (url === '/echo') {
        void readBody(req).then((body) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ method: req.method, body, authorization: req.headers.authorization ?? null, host: req.headers.host })));
        return;
      }
      res.statusCode = 404;
      res.end('not found');
    }))!;
    b = await listen('127.0.0.2', (req, res, self) => {
      self.requests.push(`${req.method} ${req.url}`);
      res.end('second server');
    });
    bPort = b?.port ?? 9;
  });

  afterAll(async () => {
    for (const s of [a, b]) {
      if (!s) continue;
      s.server.closeAllConnections();
      await new Promise((resolve) => s.server.close(resolve));
    }
  });

  // undici's own limits (300 s each) stand lowered to 200 ms here (its headers timer ticks about
  // every 0.5 s, so it fires within a second); a 10 s request timeout must replace them.
  it('guardedFetch and timedFetch: a response held longer than undici\'s limits arrives when the request timeout allows it', async () => {
    const transportLimits = { headersTimeout: 200, bodyTimeout: 200 };
    const make = (o: { timeoutMs?: number }) => [guardedFetch({ allow: ['127.0.0.1'] }, { ...o, transportLimits }), timedFetch({ ...o, transportLimits })];
    const held = (f: typeof fetch) => [
      f(`http://127.0.0.1:${a.port}/slow-headers`).then((r) => r.text()),
      f(`http://127.0.0.1:${a.port}/slow-body`).then((r) => r.text()),
    ];
    const settled = (ps: Promise<string>[]) => Promise.all(ps.map((p) => p.then((text) => ({ text }), (e: { cause?: { code?: string } }) => ({ error: e.cause?.code }))));
    const [allowed, limited] = await Promise.all([settled(make({ timeoutMs: 10_000 }).flatMap(held)), settled(make({}).flatMap(held))]);
    expect(allowed).toEqual([{ text: 'late headers' }, { text: 'late body' }, { text: 'late headers' }, { text: 'late body' }]);
    // Without a request timeout, undici's limits end the same requests.
    expect(limited).toEqual([{ error: 'UND_ERR_HEADERS_TIMEOUT' }, { error: 'UND_ERR_BODY_TIMEOUT' }, { error: 'UND_ERR_HEADERS_TIMEOUT' }, { error: 'UND_ERR_BODY_TIMEOUT' }]);
  });

  it('refuses a local server with an empty allow-list, without connecting', async () => {
    const before = a.connections;
    const e = await refusal(guardedFetch({ allow: [] })(`http://127.0.0.1:${a.port}/ok`));
    expect(e.reason).toBe('loopback');
    expect(e.message).toContain('127.0.0.1');
    expect(a.connections).toBe(before);
  });

  it('reaches the local server when 127.0.0.1 is allow-listed', async () => {
    const res = await guardedFetch({ allow: ['127.0.0.1'] })(`http://127.0.0.1:${a.port}/ok`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello');
  });

  it('reaches it through a CIDR entry', async () => {
    const res = await guardedFetch({ allow: ['127.0.0.0/8'] })(`http://127.0.0.1:${a.port}/ok`);
    expect(await res.text()).toBe('hello');
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['http://[::1]:1/', 'loopback'],
    ['http://10.1.2.3/', 'private (RFC 1918)'],
    ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped loopback (127.0.0.1)'],
    ['ftp://x', 'only http and https URLs can be endpoints'],
    ['http://user:pw@host/', 'credentials in the URL'],
  ])('refuses %s (%s)', async (url, reason) => {
    const e = await refusal(guardedFetch({ allow: [] })(url));
    expect(e.reason).toBe(reason);
  });

  it('refuses a host name whose lookup returns a private address', async () => {
    const e = await refusal(guardedFetch({ allow: [] }, { lookup: fakeDns({ 'api.example.com': '10.0.0.5' }) })('https://api.example.com/v1/models'));
    expect(e).toMatchObject({ reason: 'private (RFC 1918)', address: '10.0.0.5', host: 'api.example.com' });
  });

  it('connects to the address the pinned lookup returns for an allow-listed host name', async () => {
    const f = guardedFetch({ allow: ['svc.corp.test'] }, { lookup: fakeDns({ 'svc.corp.test': '127.0.0.1' }) });
    const res = await f(`http://svc.corp.test:${a.port}/ok`);
    expect(await res.text()).toBe('hello');
  });

  it('connects through a wildcard entry', async () => {
    const f = guardedFetch({ allow: ['*.corp.test'] }, { lookup: fakeDns({ 'svc.corp.test': '127.0.0.1' }) });
    expect(await (await f(`http://svc.corp.test:${a.port}/ok`)).text()).toBe('hello');
  });

  it('re-checks at connect time, so DNS rebinding after the check is refused', async () => {
    let calls = 0;
    const rebinding: OutboundLookup = async () => (calls++ === 0 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const before = a.connections;
    const e = await refusal(guardedFetch({ allow: [] }, { lookup: rebinding })(`http://rebind.example.com:${a.port}/ok`));
    expect(calls).toBe(2);
    expect(e).toMatchObject({ reason: 'loopback', address: '127.0.0.1', host: 'rebind.example.com' });
    expect(a.connections).toBe(before);
  });

  it('a port-scoped entry holds at every hop: a redirect to another port of the same host is refused before connecting', async () => {
    const other = (await listen('127.0.0.1', (_req, res) => res.end('redis-like')))!;
    try {
      const f = guardedFetch({ allow: [`127.0.0.1:${a.port}`] });
      expect(await (await f(`http://127.0.0.1:${a.port}/ok`)).text()).toBe('hello');
      const e = await refusal(f(`http://127.0.0.1:${a.port}/to-port/${other.port}`));
      expect(e).toMatchObject({ reason: 'loopback', url: `http://127.0.0.1:${other.port}/ok` });
      expect(other.connections).toBe(0);
    } finally {
      await new Promise((resolve) => other.server.close(resolve));
    }
  });

  it('a port-scoped entry holds at connect time: a name rebound to an allow-listed address on another port is refused', async () => {
    let calls = 0;
    const rebinding: OutboundLookup = async () => (calls++ === 0 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const before = a.connections;
    const e = await refusal(guardedFetch({ allow: [`127.0.0.1:${a.port + 1}`] }, { lookup: rebinding })(`http://rebind.example.com:${a.port}/ok`));
    expect(e).toMatchObject({ reason: 'loopback', address: '127.0.0.1', host: 'rebind.example.com' });
    expect(a.connections).toBe(before);
    calls = 0;
    const ok = guardedFetch({ allow: [`127.0.0.1:${a.port}`] }, { lookup: rebinding });
    expect(await (await ok(`http://rebind.example.com:${a.port}/ok`)).text()).toBe('hello');
  });

  it('refuses a redirect to a loopback address that is not allow-listed, without connecting there', async () => {
    const bBefore = b?.connections ?? 0;
    const e = await refusal(guardedFetch({ allow: ['127.0.0.1'] })(`http://127.0.0.1:${a.port}/to-second`));
    expect(e).toMatchObject({ reason: 'loopback', address: '127.0.0.2', url: `http://127.0.0.2:${bPort}/ok` });
    expect(b?.connections ?? 0).toBe(bBefore);
    expect(b?.requests ?? []).toEqual([]);
    expect(a.requests).toContain('GET /to-second');
  });

  it('the second server is reachable when it is allow-listed too', async (ctx) => {
    if (!b) ctx.skip();
    const res = await guardedFetch({ allow: ['127.0.0.1', '127.0.0.2'] })(`http://127.0.0.1:${a.port}/to-second`);
    expect(await res.text()).toBe('second server');
  });

  it('refuses a redirect to the cloud metadata address at the redirect hop', async () => {
    const e = await refusal(guardedFetch({ allow: ['127.0.0.1'] })(`http://127.0.0.1:${a.port}/to-metadata`));
    expect(e).toMatchObject({ reason: 'cloud metadata', address: '169.254.169.254', url: 'http://169.254.169.254/latest/meta-data/' });
  });

  it('judges an IPv4-mapped redirect target by the IPv4 address it stands for', async () => {
    // ::ffff:127.0.0.1 is 127.0.0.1, which is allow-listed, so this hop passes.
    const res = await guardedFetch({ allow: ['127.0.0.1'] })(`http://127.0.0.1:${a.port}/to-mapped`);
    expect(await res.text()).toBe('hello');
  });

  it('follows a redirect chain between allow-listed targets and returns the final body', async () => {
    const res = await guardedFetch({ allow: ['127.0.0.1'] })(`http://127.0.0.1:${a.port}/chain/1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('final body');
    expect(res.url).toBe(`http://127.0.0.1:${a.port}/chain/ok-final`);
  });

  it('gives up after maxRedirects', async () => {
    await expect(guardedFetch({ allow: ['127.0.0.1'] }, { maxRedirects: 3 })(`http://127.0.0.1:${a.port}/loop`)).rejects.toThrow(/too many redirects: gave up after 3/);
    await expect(guardedFetch({ allow: ['127.0.0.1'] }, { maxRedirects: 2 })(`http://127.0.0.1:${a.port}/chain/1`)).rejects.toThrow(/too many redirects/);
  });

  it('turns a POST into a GET without a body on 303, and keeps method and body on 307', async () => {
    const f = guardedFetch({ allow: ['127.0.0.1'] });
    const seeOther = await (await f(`http://127.0.0.1:${a.port}/see-other`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } })).json();
    expect(seeOther).toMatchObject({ method: 'GET', body: '' });
    const temporary = await (await f(`http://127.0.0.1:${a.port}/temporary`, { method: 'POST', body: 'payload' })).json();
    expect(temporary).toMatchObject({ method: 'POST', body: 'payload' });
  });

  it('keeps credentials on same-origin redirects and drops them when a redirect leaves the origin', async () => {
    const f = guardedFetch({ allow: ['127.0.0.1', 'svc.corp.test'] }, { lookup: fakeDns({ 'svc.corp.test': '127.0.0.1' }) });
    const same = await (await f(`http://127.0.0.1:${a.port}/see-other`, { headers: { authorization: 'Bearer sk-secret' } })).json();
    expect(same).toMatchObject({ authorization: 'Bearer sk-secret' });
    const cross = await (await f(`http://127.0.0.1:${a.port}/to-named`, { headers: { authorization: 'Bearer sk-secret' } })).json();
    expect(cross).toMatchObject({ authorization: null, host: `svc.corp.test:${a.port}` });
  });

  it("returns the 3xx itself with redirect: 'manual' and throws with redirect: 'error'", async () => {
    const f = guardedFetch({ allow: ['127.0.0.1'] });
    const res = await f(`http://127.0.0.1:${a.port}/to-metadata`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/');
    await expect(f(`http://127.0.0.1:${a.port}/chain/1`, { redirect: 'error' })).rejects.toThrow(/redirect: 'error'/);
  });

  it('accepts a Request as input', async () => {
    const f = guardedFetch({ allow: ['127.0.0.1'] });
    const res = await f(new Request(`http://127.0.0.1:${a.port}/temporary`, { method: 'PUT', body: 'from a request' }));
    expect(await res.json()).toMatchObject({ method: 'PUT', body: 'from a request' });
  });

  it('reports a host that cannot be resolved', async () => {
    const e = await refusal(guardedFetch({ allow: [] }, { lookup: fakeDns({}) })('https://nowhere.example.com/'));
    expect(e.message).toBe('cannot resolve nowhere.example.com (ENOTFOUND)');
  });

  it('passes non-refusal network errors through', async () => {
    // Port 9 on an allow-listed loopback address: nothing listens, so the connection is refused by the OS.
    await expect(guardedFetch({ allow: ['127.0.0.1'] })('http://127.0.0.1:9/')).rejects.toThrow(TypeError);
  });
});
