import type { IncomingMessage } from 'node:http';
import { and, eq, or, sql } from 'drizzle-orm';
import { spaces, users } from '../../../schema/db/index.js';
import type { Services } from '../services.js';

/** What a space host serves: a web port, code-server or the desktop. */
export type SpaceHostKind = 'port' | 'code-server' | 'desktop';

/**
 * `<user>--<space>--<port>`, `<user>--<space>--code-server` or `<user>--<space>--desktop` under the
 * wildcard domain, as the browser asked for it. Each is an origin of its own, so what the space
 * serves there cannot touch Knot's cookies, storage or service workers.
 */
export interface PortHost {
  host: string;
  username: string;
  spaceName: string;
  kind: SpaceHostKind;
  /** The web port; 0 for code-server and the desktop. */
  port: number;
}

/** The host label of a space's service: `<user>--<space>--<port|code-server|desktop>`. */
export function spaceHostLabel(username: string, spaceName: string, service: number | Exclude<SpaceHostKind, 'port'>): string {
  return `${username}--${spaceName}--${service}`.toLowerCase();
}

/** `*.knot.example.com` → `knot.example.com`. */
export function wildcardBase(wildcardDomain: string): string {
  return wildcardDomain.replace(/^\*\./, '').replace(/\.$/, '').toLowerCase();
}

/**
 * Reads a port host. Space names cannot contain `--` but usernames may, so the space and port are
 * taken from the right.
 */
export function parsePortHost(hostHeader: string | undefined, wildcardDomain: string | undefined): PortHost | null {
  if (!hostHeader || !wildcardDomain) return null;
  const host = hostHeader.toLowerCase().replace(/:\d+$/, '');
  const suffix = `.${wildcardBase(wildcardDomain)}`;
  if (!host.endsWith(suffix)) return null;
  const label = host.slice(0, -suffix.length);
  const match = /^(.+)--([a-z][a-z0-9-]*)--(\d{1,5}|code-server|desktop)$/.exec(label);
  if (!match) return null;
  const base = { host, username: match[1]!, spaceName: match[2]! };
  if (match[3] === 'code-server' || match[3] === 'desktop') return { ...base, kind: match[3], port: 0 };
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { ...base, kind: 'port', port };
}

export function isPortHostRequest(req: IncomingMessage, wildcardDomain: string | undefined): boolean {
  return parsePortHost(req.headers.host, wildcardDomain) !== null;
}

/**
 * Resolves `<user>--<name>` to a space id, by its name or any additional name. Hits are cached
 * briefly (a page load is many requests); a rename or delete anywhere empties the cache, so a
 * newly saved additional name works on the next request and an old one stops working.
 */
export class PortHostResolver {
  private cache = new Map<string, { spaceId: string; expires: number }>();
  private readonly ttlMs = 30_000;
  private off: () => void;

  constructor(private services: Services) {
    this.off = services.pubsub.on('space', (event) => {
      if (event.kind === 'RENAMED' || event.kind === 'DELETED') this.cache.clear();
    });
  }

  async resolve(username: string, spaceName: string): Promise<string | null> {
    const key = `${username}\n${spaceName}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.spaceId;
    const [row] = await this.services.db
      .select({ id: spaces.id })
      .from(spaces)
      .innerJoin(users, eq(users.id, spaces.ownerId))
      .where(
        and(
          sql`lower(${users.username}) = ${username}`,
          or(sql`lower(${spaces.name}) = ${spaceName}`, sql`exists (select 1 from unnest(${spaces.altNames}) n where lower(n) = ${spaceName})`),
        ),
      )
      .limit(1);
    const spaceId = row?.id ?? null;
    if (spaceId) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, { spaceId, expires: Date.now() + this.ttlMs });
    }
    return spaceId;
  }

  dispose() {
    this.off();
  }
}
