import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Services } from '../services.js';
import { spaceAgent } from './dial.js';

/** Where one request goes inside a space. */
export interface ProxyTarget {
  spaceId: string;
  port: number;
  tls: boolean;
  /** The path the space is served under (`/spaces/<id>/code-server`), stripped before it goes upstream; '' for a host of its own. */
  prefix: string;
  /** Basic credentials for the upstream (the desktop gets the owner's service password). */
  basicAuth?: { username: string; password: string };
  /** The user authorized for this request (named to the replica that serves a relayed stream). */
  asker: string;
}

/** Knot's own cookies (the session, `__Host-` or not, and the port-host cookies): never the space's to read or set. */
export function isKnotCookieName(name: string): boolean {
  return /^(__host-|__secure-)?knot_/i.test(name.trim());
}

/**
 * Knot's own credentials never reach the software in the space: it is the user's code, and a
 * session cookie or token it could read would let it act as them on Knot.
 */
function withoutKnotCredentials(req: IncomingMessage) {
  const cookie = req.headers.cookie;
  if (cookie) {
    const kept = cookie
      .split(';')
      .map((c) => c.trim())
      .filter((c) => c && !isKnotCookieName(c.slice(0, c.indexOf('='))));
    if (kept.length) req.headers.cookie = kept.join('; ');
    else delete req.headers.cookie;
  }
  if (/^Bearer\s/i.test(req.headers.authorization ?? '')) delete req.headers.authorization;
}

/**
 * What a space may not do through its responses. Cookies lose `Domain` (host-only): a port host
 * must not plant cookies on Knot or on other spaces' hosts (session fixation by cookie tossing),
 * and a cookie named like Knot's is dropped. Under a path on Knot's origin, the upstream may not
 * widen a service worker's scope to Knot's pages (`Service-Worker-Allowed`).
 */
export function sanitizeResponseHeaders(headers: IncomingMessage['headers'], onKnotOrigin: boolean) {
  const cookies = headers['set-cookie'];
  if (cookies) {
    const kept = cookies.filter((c) => !isKnotCookieName(c.slice(0, Math.max(0, c.indexOf('='))))).map((c) => c.replace(/;\s*domain\s*=[^;]*/gi, ''));
    if (kept.length) headers['set-cookie'] = kept;
    else delete headers['set-cookie'];
  }
  if (onKnotOrigin) delete headers['service-worker-allowed'];
}

/** Absolute-path redirects from the upstream must stay under the prefix the space is served at. */
function underPrefix(location: string, prefix: string): string {
  return prefix && location.startsWith('/') && !location.startsWith('//') ? `${prefix}${location}` : location;
}

/**
 * One http-proxy-3 instance for every reverse proxy into spaces (code-server, desktop, web ports);
 * each request brings its own target and an HTTP agent that dials through the space's agent.
 */
export function createSpaceProxy(services: Services) {
  const proxy = createProxyServer({ xfwd: true, ws: true });
  const prefixes = new WeakMap<IncomingMessage, string>();

  proxy.on('proxyRes', (proxyRes, req) => {
    const prefix = prefixes.get(req) ?? '';
    sanitizeResponseHeaders(proxyRes.headers, prefix !== '');
    const location = proxyRes.headers.location;
    if (typeof location === 'string') proxyRes.headers.location = underPrefix(location, prefix);
  });
  // A WebSocket handshake answer reaches the browser too (it may carry Set-Cookie): same rules.
  proxy.on('proxyReqWs', (proxyReq, req) => {
    const prefix = prefixes.get(req) ?? '';
    proxyReq.once('upgrade', (proxyRes) => sanitizeResponseHeaders(proxyRes.headers, prefix !== ''));
  });
  proxy.on('error', (err, req, res) => {
    services.log.info({ err: err.message, url: req.url }, 'proxy to a space failed');
    failed(res, `The space did not answer: ${err.message}`);
  });

  function prepare(req: IncomingMessage, target: ProxyTarget, rest: string) {
    withoutKnotCredentials(req);
    prefixes.set(req, target.prefix);
    if (target.prefix) req.headers['x-forwarded-prefix'] = target.prefix;
    req.url = rest || '/';
    return {
      target: `http://127.0.0.1:${target.port}`,
      agent: spaceAgent(services, target.spaceId, target.port, target.tls, target.asker),
      auth: target.basicAuth ? `${target.basicAuth.username}:${target.basicAuth.password}` : undefined,
      cookiePathRewrite: target.prefix ? { '*': `${target.prefix}/` } : false,
    } as const;
  }

  return {
    /** `rest` is the path and query to request upstream (`/` and below). */
    web(req: IncomingMessage, res: ServerResponse, target: ProxyTarget, rest: string) {
      proxy.web(req, res, prepare(req, target, rest));
    },
    ws(req: IncomingMessage, socket: Duplex, head: Buffer, target: ProxyTarget, rest: string) {
      proxy.ws(req, socket, head, prepare(req, target, rest));
    },
  };
}

/** A plain-text answer a person can read in the browser tab. */
export function answer(res: ServerResponse | Duplex, status: number, message: string, headers: Record<string, string> = {}) {
  if ('writeHead' in res) {
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(`${message}\n`);
    return;
  }
  // An upgrade that is refused gets an HTTP response on the raw socket.
  const body = `${message}\n`;
  const lines = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  res.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function failed(res: ServerResponse | Duplex, message: string) {
  // A socket may already have been upgraded, so HTTP text would corrupt it: just end it.
  if ('writeHead' in res) answer(res, 502, message);
  else res.destroy();
}

const STATUS_TEXT: Record<number, string> = {
  302: 'Found',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};
