import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => unknown;

/** One registered route as the authorization matrix test enumerates it: what answers, on which transports. */
export interface RouteEntry {
  name: string;
  /** The path for path routes; undefined for custom matchers. */
  path?: string;
  prefix: boolean;
  http: boolean;
  upgrade: boolean;
}

/**
 * Routes by exact path or path prefix, and, before those, by custom matchers (e.g. a
 * `user--space--port.<wildcard domain>` host). Each feature registers its own routes, so app.ts
 * does not grow with every feature. `name` labels the route in /metrics.
 */
export class Router {
  private matchers: { name: string; match: (req: IncomingMessage) => boolean; http?: RequestHandler; upgrade?: UpgradeHandler }[] = [];
  private routes: { name: string; prefix: boolean; path: string; http?: RequestHandler; upgrade?: UpgradeHandler }[] = [];

  /** `/x` matches exactly; `/x/` matches everything under it. */
  route(path: string, handlers: { http?: RequestHandler; upgrade?: UpgradeHandler }, name = path): this {
    this.routes.push({ name, path, prefix: path.endsWith('/'), ...handlers });
    return this;
  }

  /** Checked before paths, in the order added. */
  match(name: string, match: (req: IncomingMessage) => boolean, handlers: { http?: RequestHandler; upgrade?: UpgradeHandler }): this {
    this.matchers.push({ name, match, ...handlers });
    return this;
  }

  /** Every route, matchers first, as find() tries them. */
  list(): RouteEntry[] {
    return [
      ...this.matchers.map((m) => ({ name: m.name, prefix: false, http: !!m.http, upgrade: !!m.upgrade })),
      ...this.routes.map((r) => ({ name: r.name, path: r.path, prefix: r.prefix, http: !!r.http, upgrade: !!r.upgrade })),
    ];
  }

  find(req: IncomingMessage, kind: 'http' | 'upgrade'): { name: string; handler: RequestHandler | UpgradeHandler } | null {
    for (const m of this.matchers) if (m[kind] && m.match(req)) return { name: m.name, handler: m[kind]! };
    const path = (req.url ?? '/').split('?')[0]!;
    for (const r of this.routes) {
      if (!r[kind]) continue;
      if (r.prefix ? path.startsWith(r.path) : path === r.path) return { name: r.name, handler: r[kind]! };
    }
    return null;
  }
}
