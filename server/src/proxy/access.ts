import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { eq } from 'drizzle-orm';
import { spaces, templates, users } from '../../../schema/db/index.js';
import { viewerFromHeaders, type UserRow, type Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';
import { mayUse, relationTo } from '../spaces/access.js';
import type { SpaceRow } from '../spaces/store.js';
import type { TemplateRow } from '../templates/store.js';
import { isUuid } from '../templates/store.js';

/** Everything a route into a space needs once the caller is allowed in. */
export interface SpaceAccess {
  viewer: Viewer;
  space: SpaceRow;
  template: TemplateRow;
  owner: UserRow;
}

/**
 * Why a caller may not reach into a space: an HTTP status for plain requests and a WebSocket close
 * code (4000 + the HTTP status) for sockets, with a reason a person understands.
 */
export class Refusal {
  constructor(readonly status: 401 | 404 | 409 | 410 | 413 | 429 | 400 | 502 | 503, readonly reason: string) {}
  get closeCode(): number {
    return 4000 + this.status;
  }
}

export const refusals = {
  anonymous: () => new Refusal(401, 'You need to log in first.'),
  // Another user's space answers like a missing one, so ids cannot be probed.
  notFound: () => new Refusal(404, 'That space was not found.'),
  notRunning: (space: SpaceRow) => new Refusal(409, `The space "${space.name}" is ${space.status.toLowerCase()}; start it first.`),
};

/**
 * Browsers attach cookies to cross-site WebSocket handshakes, so a cookie only counts when the page
 * that opened the socket is ours (or the request is not from a browser at all: no Origin).
 */
export function sameOrigin(req: IncomingMessage, publicUrl: string): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host || origin === new URL(publicUrl).origin;
  } catch {
    return false;
  }
}

/** The caller, from `Authorization: Bearer` or the session cookie. Tokens never travel in URLs. */
export async function viewerOf(services: Services, req: IncomingMessage): Promise<Viewer | null> {
  const cookie = sameOrigin(req, services.config.url) ? req.headers.cookie : undefined;
  const viewer = await viewerFromHeaders(services.viewers, { authorization: req.headers.authorization, cookie });
  return viewer === 'invalid' ? null : mayReachSpaces(viewer);
}

/** Someone who must still set up two-factor sign-in reaches no space: to routes they are signed out. */
export function mayReachSpaces(viewer: Viewer | null): Viewer | null {
  return viewer?.mustEnrolTotp ? null : viewer;
}

/**
 * Reaching into a space (terminal, code-server, desktop, ports, forwards) is for its owner and the
 * users it is shared with: it acts inside the owner's environment (their files, keys and service
 * password), which is more than MANAGE_SPACES grants. The rule is spaces/access.ts's `mayUse`.
 */
export async function mayReachInto(services: Services, viewer: Viewer, space: Pick<SpaceRow, 'id' | 'ownerId'>): Promise<boolean> {
  return mayUse(await relationTo(services.db, viewer, space));
}

/** Loads the space with its template and owner; null when there is no such space. */
export async function loadSpace(services: Services, spaceId: string): Promise<Omit<SpaceAccess, 'viewer'> | null> {
  if (!isUuid(spaceId)) return null;
  const [row] = await services.db
    .select({ space: spaces, template: templates, owner: users })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .innerJoin(users, eq(users.id, spaces.ownerId))
    .where(eq(spaces.id, spaceId));
  return row ?? null;
}

/** Checks the whole chain (who, whose, running) and says which link broke. */
export async function authorize(
  services: Services,
  viewer: Viewer | null,
  spaceId: string,
): Promise<SpaceAccess | Refusal> {
  if (!viewer) return refusals.anonymous();
  const found = await loadSpace(services, spaceId);
  if (!found || !(await mayReachInto(services, viewer, found.space))) return refusals.notFound();
  if (found.space.status !== 'RUNNING') return refusals.notRunning(found.space);
  return { viewer, ...found };
}

/** One log line per refusal, so an operator can see who was turned away and why. */
export function logRefusal(services: Services, req: IncomingMessage, route: string, refusal: Refusal, viewer?: Viewer | null, spaceId?: string) {
  services.log.info(
    { route, spaceId, userId: viewer?.user.id, remote: req.socket.remoteAddress, status: refusal.status, reason: refusal.reason },
    `refused ${route}`,
  );
}

/** A long-lived connection into a space, and how to tell whether its caller may still use it. */
export interface Revocable {
  spaceId: string;
  stillAllowed(): Promise<boolean>;
  end(): void;
}

/** Space events after which someone may have lost the use of the space (spaces/sharing.ts, spaces/transfer.ts). */
export const ACCESS_CHANGES: ReadonlySet<string> = new Set(['UNSHARED', 'TRANSFERRED']);

/**
 * Ends the connections whose caller may no longer use the space: their credential stopped working
 * (token revoked, session ended, user deactivated), as the GraphQL sockets do, or the space was
 * unshared from them or handed to someone else. Neither a revoked token nor a withdrawn share may
 * keep a shell, a tunnel or a proxied WebSocket open. Events reach every replica.
 */
export function endOnRevocation(services: Services, live: ReadonlySet<Revocable>): () => void {
  const recheck = (entries: Iterable<Revocable>) => {
    for (const entry of entries) {
      void entry.stillAllowed().then(
        (allowed) => allowed || entry.end(),
        () => {},
      );
    }
  };
  const offAuth = services.pubsub.on('auth', () => recheck(live));
  const offSpace = services.pubsub.on('space', (event) => {
    if (ACCESS_CHANGES.has(event.kind)) recheck([...live].filter((entry) => entry.spaceId === event.spaceId));
  });
  return () => {
    offAuth();
    offSpace();
  };
}

/** Whether `viewer` (null: their credential ended) may still reach into the space. */
export async function mayStillUse(services: Services, viewer: Viewer | null, spaceId: string): Promise<boolean> {
  const found = viewer && (await loadSpace(services, spaceId));
  return !!found && (await mayReachInto(services, viewer, found.space));
}

/** A WebSocket opened with `req`'s credentials into a space, closed with 4401 when they stop working, 4404 when its use is withdrawn. */
export function revocableSocket(services: Services, ws: WebSocket, req: IncomingMessage, spaceId: string): Revocable {
  let why = { code: 4401, reason: 'Your login has ended.' };
  return {
    spaceId,
    stillAllowed: async () => {
      const viewer = await viewerOf(services, req);
      if (!viewer) return false;
      why = { code: 4404, reason: 'You no longer have access to this space.' };
      return mayStillUse(services, viewer, spaceId);
    },
    end: () => ws.close(why.code, why.reason),
  };
}
