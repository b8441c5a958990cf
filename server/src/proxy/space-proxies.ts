import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Services } from '../services.js';
import { authorize, endOnRevocation, loadSpace, logRefusal, mayReachInto, mayStillUse, Refusal, refusals, viewerOf, type Revocable, type SpaceAccess } from './access.js';
import { codeServerTarget, desktopTarget, reportOf, webPortTarget } from './offered.js';
import { isNavigation, PORT_AUTH_PATH, portAuthCallback, portHostViewer, portLogin, startPortLogin } from './port-auth.js';
import { parsePortHost, PortHostResolver, type PortHost } from './port-hosts.js';
import { answer, createSpaceProxy, type ProxyTarget } from './reverse-proxy.js';
import { spaceServiceUrl } from '../spaces/service-report.js';

type Sink = ServerResponse | Duplex;

/**
 * The authenticated reverse proxies into a space: code-server, the desktop and web ports, under
 * `/spaces/<id>/…` on Knot's own host, and web ports on `<user>--<space>--<port>.<wildcard domain>`.
 * Every request is checked (owner, running, service offered) before a byte reaches the space.
 */
export function createSpaceProxies(services: Services) {
  const proxy = createSpaceProxy(services);
  const hosts = new PortHostResolver(services);

  function refuse(req: IncomingMessage, sink: Sink, route: string, refusal: Refusal, access?: { viewer?: SpaceAccess['viewer'] | null; spaceId?: string }) {
    logRefusal(services, req, route, refusal, access?.viewer, access?.spaceId);
    answer(sink, refusal.status, refusal.reason);
  }

  const live = new Set<Revocable>();
  const offAuth = endOnRevocation(services, live);

  /**
   * `recheck` tells, from the credentials as they came in (the proxy strips them before the
   * request goes upstream), who is asking, so a long-lived proxied WebSocket is cut once they may
   * no longer use the space.
   */
  function forward(req: IncomingMessage, sink: Sink, head: Buffer | null, target: ProxyTarget, rest: string, recheck: (asked: IncomingMessage) => Promise<SpaceAccess['viewer'] | null>, spaceId: string) {
    // Every proxied request, and every frame a proxied WebSocket sends in, is activity (scheduler/activity.ts).
    services.activity.touch(spaceId);
    if (!head) return proxy.web(req, sink as ServerResponse, target, rest);
    const asked = { headers: { ...req.headers }, socket: req.socket } as IncomingMessage;
    const socket = sink as Duplex;
    const entry: Revocable = { spaceId, stillAllowed: async () => mayStillUse(services, await recheck(asked), spaceId), end: () => socket.destroy() };
    live.add(entry);
    socket.once('close', () => live.delete(entry));
    socket.on('data', () => services.activity.touch(spaceId));
    proxy.ws(req, socket, head, target, rest);
  }

  /** `/spaces/<id>/<kind>/<rest>` where kind is code-server, desktop or ports. */
  async function byPath(req: IncomingMessage, sink: Sink, head: Buffer | null, parts: { spaceId: string; kind: string; rest: string }) {
    let kind = parts.kind;
    let rest = parts.rest;
    let port = 0;
    if (kind === 'ports') {
      const match = /^\/(\d{1,5})(\/.*)?$/.exec(rest);
      if (!match) return answer(sink, 404, 'Not found.');
      port = Number(match[1]);
      rest = match[2] ?? '';
      kind = `ports/${port}`;
    }
    const prefix = `/spaces/${parts.spaceId}/${kind}`;
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
    // Pages under a prefix use relative links, which only resolve below it with the trailing slash.
    if (rest === '' && !head) return answer(sink, 302, 'Moved.', { location: `${prefix}/${query}` });

    // Without a wildcard domain this content runs on Knot's origin: a service worker installed from
    // it could take over Knot's own pages, so none is served (docs/security.md).
    if (req.headers['service-worker'] === 'script') {
      return answer(sink, 403, 'A space served under Knot\'s own address may not install a service worker; an administrator can give spaces addresses of their own with KNOT_WILDCARD_DOMAIN.');
    }

    const viewer = await viewerOf(services, req);
    const access = await authorize(services, viewer, parts.spaceId);
    const route = parts.kind;
    if (access instanceof Refusal) return refuse(req, sink, route, access, { viewer, spaceId: parts.spaceId });
    const ownHost = ownHostOf(req, access, parts.kind === 'ports' ? port : (parts.kind as 'code-server' | 'desktop'));
    if (ownHost) {
      const location = `${ownHost}${rest.slice(1)}${query}`;
      if (!head && (req.method === 'GET' || req.method === 'HEAD')) return answer(sink, 302, `This is served at ${location}`, { location });
      return answer(sink, 400, `This space is served at its own address: ${ownHost}`);
    }
    const report = reportOf(access, services.serviceReports);
    const target =
      parts.kind === 'code-server'
        ? codeServerTarget(access, report, prefix)
        : parts.kind === 'desktop'
          ? desktopTarget(access, report, prefix)
          : webPortTarget(access, report, port, prefix);
    if (target instanceof Refusal) return refuse(req, sink, route, target, { viewer, spaceId: parts.spaceId });
    forward(req, sink, head, target, `${rest || '/'}${query}`, (asked) => viewerOf(services, asked), parts.spaceId);
  }

  /**
   * With a wildcard domain, a browser never gets space content on Knot's origin: the path routes
   * send it to the space's own host. Scripts with a Bearer token are still served by path (no
   * browser renders a response to a request that carries one, so nothing runs on Knot's origin).
   */
  function ownHostOf(req: IncomingMessage, access: SpaceAccess, service: number | 'code-server' | 'desktop'): string | null {
    if (!services.config.wildcardDomain || /^Bearer\s/i.test(req.headers.authorization ?? '')) return null;
    return spaceServiceUrl(services.config, access.owner, access.space, service);
  }

  /** Any request to `<user>--<space>--<port|code-server|desktop>.<wildcard domain>`. */
  async function byHost(req: IncomingMessage, sink: Sink, head: Buffer | null) {
    const portHost = parsePortHost(req.headers.host, services.config.wildcardDomain)!;
    const path = (req.url ?? '/').split('?')[0];
    if (path === PORT_AUTH_PATH && !head) return portAuthCallback(services, req, sink as ServerResponse, portHost.host);

    const viewer = await portHostViewer(services, req, portHost.host);
    if (!viewer) {
      if (!head && isNavigation(req)) return startPortLogin(services, req, sink as ServerResponse, portHost.host);
      return refuse(req, sink, 'port-host', refusals.anonymous());
    }
    const spaceId = await hosts.resolve(portHost.username, portHost.spaceName);
    if (!spaceId) return refuse(req, sink, 'port-host', refusals.notFound(), { viewer });
    const access = await authorize(services, viewer, spaceId);
    if (access instanceof Refusal) return refuse(req, sink, 'port-host', access, { viewer, spaceId });
    const report = reportOf(access, services.serviceReports);
    const target =
      portHost.kind === 'code-server'
        ? codeServerTarget(access, report, '')
        : portHost.kind === 'desktop'
          ? desktopTarget(access, report, '')
          : webPortTarget(access, report, portHost.port, '');
    if (target instanceof Refusal) return refuse(req, sink, 'port-host', target, { viewer, spaceId });
    forward(req, sink, head, target, req.url ?? '/', (asked) => portHostViewer(services, asked, portHost.host), spaceId);
  }

  /** Knot's side of the port-host login handoff: only for spaces the user may use (their own, or shared with them). */
  function login(req: IncomingMessage, res: ServerResponse) {
    const parse = (host: string) => parsePortHost(host, services.config.wildcardDomain)?.host ?? null;
    const check = async (viewer: SpaceAccess['viewer'], host: string) => {
      const portHost = parsePortHost(host, services.config.wildcardDomain) as PortHost;
      const spaceId = await hosts.resolve(portHost.username, portHost.spaceName);
      const found = spaceId ? await loadSpace(services, spaceId) : null;
      return !!found && (await mayReachInto(services, viewer, found.space));
    };
    return portLogin(services, req, res, parse, check);
  }

  const guard = (run: () => Promise<unknown>, sink: Sink) =>
    void run().catch((err) => {
      services.log.error({ err }, 'space proxy failed');
      answer(sink, 500, 'Knot could not handle this request.');
    });

  return {
    http: (req: IncomingMessage, res: ServerResponse, parts: { spaceId: string; kind: string; rest: string }) => guard(() => byPath(req, res, null, parts), res),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, parts: { spaceId: string; kind: string; rest: string }) => {
      socket.on('error', () => {});
      guard(() => byPath(req, socket, head, parts), socket);
    },
    hostHttp: (req: IncomingMessage, res: ServerResponse) => guard(() => byHost(req, res, null), res),
    hostUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      guard(() => byHost(req, socket, head), socket);
    },
    login: (req: IncomingMessage, res: ServerResponse) => guard(() => login(req, res), res),
    dispose: () => {
      offAuth();
      hosts.dispose();
    },
  };
}
