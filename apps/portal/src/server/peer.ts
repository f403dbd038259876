/**
 * Next.js hands route handlers a request's headers but not the address it came from, and fills
 * X-Forwarded-For from the socket only when the client sent none: a client that sends its own
 * header hides its address. So the portal records the socket's peer address on every request, in
 * a header of its own that replaces whatever a client sent under that name; sign-in reads it
 * (with CTXLAB_TRUSTED_PROXIES) to tell the client's address from what the client claims.
 */
import { clientAddress, parseTrustedProxies, type TrustedProxies } from '@ctxlab/api';
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { env } from '../env';

export const PEER_HEADER = 'x-ctxlab-peer';

let recording = false;

/** Node publishes each request on this channel before any request listener (Next's) sees it. */
export function recordPeers() {
  if (recording) return;
  recording = true;
  subscribe('http.server.request.start', (message) => {
    const { request, socket } = message as { request: IncomingMessage; socket: Socket };
    request.headers[PEER_HEADER] = socket.remoteAddress ?? '';
  });
}

let trusted: TrustedProxies | undefined;

/** The client's address for per-address limits (see clientAddress in @ctxlab/api). */
export function requestAddress(req: Request): string {
  trusted ??= parseTrustedProxies(env().CTXLAB_TRUSTED_PROXIES);
  return clientAddress({ peer: req.headers.get(PEER_HEADER), forwardedFor: req.headers.get('x-forwarded-for') }, trusted);
}
