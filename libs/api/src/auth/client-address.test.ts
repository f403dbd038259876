import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedProxies } from './client-address';

describe('clientAddress', () => {
  const none = parseTrustedProxies('');
  const ingress = parseTrustedProxies('10.0.0.0/8, fd00::/8');

  it('without trusted proxies: the peer, whatever X-Forwarded-For claims', () => {
    expect(clientAddress({ peer: '203.0.113.9', forwardedFor: '1.2.3.4' }, none)).toBe('203.0.113.9');
    expect(clientAddress({ peer: '::ffff:203.0.113.9', forwardedFor: null }, none)).toBe('203.0.113.9');
    // A peer that happens to be private is still not trusted unless configured.
    expect(clientAddress({ peer: '10.1.2.3', forwardedFor: '1.2.3.4' }, none)).toBe('10.1.2.3');
  });

  it('behind trusted proxies: the nearest forwarded address that is not a proxy, read from the right', () => {
    expect(clientAddress({ peer: '10.1.2.3', forwardedFor: '6.6.6.6, 198.51.100.7' }, ingress)).toBe('198.51.100.7');
    expect(clientAddress({ peer: '10.1.2.3', forwardedFor: '6.6.6.6, 198.51.100.7, 10.4.4.4' }, ingress)).toBe('198.51.100.7');
    expect(clientAddress({ peer: '10.1.2.3', forwardedFor: '[2001:db8::5], fd00::9' }, ingress)).toBe('2001:db8::5');
    // Only proxies all the way: the leftmost; no header: the proxy itself.
    expect(clientAddress({ peer: '10.1.2.3', forwardedFor: '10.9.9.9' }, ingress)).toBe('10.9.9.9');
    expect(clientAddress({ peer: '10.1.2.3', forwardedFor: null }, ingress)).toBe('10.1.2.3');
    // An untrusted peer's header is ignored even with proxies configured.
    expect(clientAddress({ peer: '198.51.100.7', forwardedFor: '10.0.0.1' }, ingress)).toBe('198.51.100.7');
  });

  it('an unknown peer is one shared key, never the header', () => {
    expect(clientAddress({ peer: null, forwardedFor: '1.2.3.4' }, ingress)).toBe('unknown');
  });

  it('refuses a setting that is not IPs and CIDRs, naming the entry', () => {
    expect(() => parseTrustedProxies('10.0.0.0/8, ingress.local')).toThrow(/CTXLAB_TRUSTED_PROXIES: "ingress.local" is not an IP address or CIDR/);
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow(/"10.0.0.0\/33"/);
  });
});
