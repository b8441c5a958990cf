import DataLoader from 'dataloader';
import { eq, inArray, or } from 'drizzle-orm';
import { AUTO_STOP_REASONS, HEALTH_STATES, PORT_PROTOCOLS, SPACE_CHANGE_KINDS, SPACE_STATUSES, type PortProtocol } from '../../../protocol/enums.js';
import { keepSpaceRunning } from '../scheduler/keep.js';
import { spaceShares, spaces, templates, users } from '../../../schema/db/index.js';
import type { EventMap } from '../pubsub.js';
import { canManage, getSpaceFor } from '../spaces/access.js';
import { deleteSpace, restartSpace, startSpace, stopSpace } from '../spaces/lifecycle.js';
import { usageOf, type Usage } from '../spaces/quotas.js';
import { createSpace, updateSpace } from '../spaces/service.js';
import { liveReport, portUrl, spaceServiceUrl } from '../spaces/service-report.js';
import type { SpaceRow } from '../spaces/store.js';
import { isUuid, type TemplateRow } from '../templates/store.js';
import type { UserRow } from '../auth/viewer.js';
import { forbidden } from '../errors.js';
import { builder } from './builder.js';
import { requireViewer, type Context } from './context.js';
import { UsageRef } from './groups.js';
import { TemplateRef } from './templates.js';
import { ShellEnum, UserRef } from './users.js';

/** A space row, possibly carrying its template and owner already (subscriptions load them once per event). */
type SpaceParent = SpaceRow & { preloaded?: { template: TemplateRow; owner: UserRow } };

export const SpaceStatusEnum = builder.enumType('SpaceStatus', { values: SPACE_STATUSES });
const SpaceChangeKindEnum = builder.enumType('SpaceChangeKind', { values: SPACE_CHANGE_KINDS });
const PortProtocolEnum = builder.enumType('PortProtocol', { values: PORT_PROTOCOLS });
const SpaceHealthEnum = builder.enumType('SpaceHealth', { values: HEALTH_STATES });
const AutoStopReasonEnum = builder.enumType('AutoStopReason', { values: AUTO_STOP_REASONS });


const VSCodeTunnelRef = builder.objectRef<{ name: string; connected: boolean }>('VSCodeTunnel').implement({
  fields: (t) => ({ name: t.exposeString('name'), connected: t.exposeBoolean('connected') }),
});

interface PortView {
  port: number;
  name: string;
  protocol: PortProtocol;
  url: string | null;
}
const SpacePortRef = builder.objectRef<PortView>('SpacePort').implement({
  fields: (t) => ({
    port: t.exposeInt('port'),
    name: t.exposeString('name'),
    protocol: t.field({ type: PortProtocolEnum, resolve: (p) => p.protocol }),
    url: t.exposeString('url', { nullable: true, description: 'For HTTP/HTTPS ports: where the browser opens it. TCP ports are for `knot forward` only.' }),
  }),
});

interface ServicesView {
  terminal: boolean;
  codeServer: boolean;
  codeServerUrl: string | null;
  desktop: boolean;
  desktopUrl: string | null;
  ssh: boolean;
  vscodeTunnel: { name: string; connected: boolean } | null;
  ports: PortView[];
}
const SpaceServicesRef = builder.objectRef<ServicesView>('SpaceServices').implement({
  description: 'The icons to show: each is on when the template enables it and the agent reports it live.',
  fields: (t) => ({
    terminal: t.exposeBoolean('terminal'),
    codeServer: t.exposeBoolean('codeServer'),
    codeServerUrl: t.exposeString('codeServerUrl', {
      nullable: true,
      description: 'Where the browser opens code-server: a host of its own under the wildcard domain, else a path on Knot.',
    }),
    desktop: t.exposeBoolean('desktop'),
    desktopUrl: t.exposeString('desktopUrl', {
      nullable: true,
      description: 'Where the browser opens the desktop: a host of its own under the wildcard domain, else a path on Knot.',
    }),
    ssh: t.exposeBoolean('ssh'),
    vscodeTunnel: t.field({ type: VSCodeTunnelRef, nullable: true, resolve: (s) => s.vscodeTunnel }),
    ports: t.field({ type: [SpacePortRef], resolve: (s) => s.ports }),
  }),
});

async function templateOf(space: SpaceParent, ctx: Context): Promise<TemplateRow> {
  if (space.preloaded) return space.preloaded.template;
  const [row] = await ctx.services.db.select().from(templates).where(eq(templates.id, space.templateId));
  return row!;
}

export const SpaceRef = builder.objectRef<SpaceParent>('Space');
SpaceRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    shell: t.field({ type: ShellEnum, resolve: (s) => s.shell as 'bash' }),
    altNames: t.exposeStringList('altNames'),
    status: t.field({ type: SpaceStatusEnum, resolve: (s) => s.status }),
    error: t.exposeString('error', { nullable: true }),
    node: t.exposeString('node', {
      nullable: true,
      description: 'On a swarm (KNOT_RUNTIME=swarm): the hostname of the node the space runs on and keeps its volumes on; null before its first start and on one Docker engine.',
    }),
    health: t.field({
      type: SpaceHealthEnum,
      description:
        "What the template's health check (run by the agent) or else the image's HEALTHCHECK last said; UNKNOWN while nothing checks it or the space is not running.",
      resolve: (s) => (s.status === 'RUNNING' ? s.health : 'UNKNOWN'),
    }),
    healthReason: t.string({
      nullable: true,
      description: 'Why it is UNHEALTHY (the last failure), and whether Knot is restarting it or gave up; null otherwise.',
      resolve: (s) => (s.status === 'RUNNING' && s.health === 'UNHEALTHY' ? s.healthReason : null),
    }),
    pullProgress: t.exposeInt('pullProgress', { nullable: true, description: 'Percent of the image pulled while starting; null otherwise.' }),
    updateAvailable: t.boolean({
      description: 'Running, and its template changed since it started: stop and start it to update.',
      resolve: async (s, _args, ctx) => s.status === 'RUNNING' && !!s.startedTemplateHash && s.startedTemplateHash !== (await templateOf(s, ctx)).hash,
    }),
    // Subscriptions and lists preload it: a status change reaching 1,000 subscribers must not cost
    // 1,000 template reads (a DataLoader batches per request, and each subscriber is its own).
    template: t.field({ type: TemplateRef, resolve: (s, _args, ctx) => templateOf(s, ctx) }),
    owner: t.field({
      type: UserRef,
      resolve: (s, _args, ctx) => ownerOf(s, ctx),
    }),
    services: t.field({
      type: SpaceServicesRef,
      resolve: async (s, _args, ctx) => servicesOf(s, await templateOf(s, ctx), ctx),
    }),
    autoStopAt: t.expose('autoStopAt', {
      type: 'DateTime',
      nullable: true,
      description:
        'While running: when Knot will stop the space by itself (see autoStopReason); null when nothing will. Activity may move an idle stop later: the scheduler re-plans before acting, and subscribers get AUTO_STOP when it moves by a minute or more.',
    }),
    autoStopReason: t.field({ type: AutoStopReasonEnum, nullable: true, resolve: (s) => s.autoStopReason }),
    autoStopWarning: t.boolean({
      description: 'True once the warning before the planned stop went out (KNOT_AUTOSTOP_WARNING_SECONDS before it; a spaceChanged event of kind AUTO_STOP_WARNING); false again when the stop moves later.',
      resolve: (s) => s.status === 'RUNNING' && !!s.autoStopWarnedAt,
    }),
    lastActivityAt: t.expose('lastActivityAt', {
      type: 'DateTime',
      nullable: true,
      description: 'The last activity counted for the idle timeout (written every few seconds while there is some).',
    }),
    stoppedReason: t.field({
      type: AutoStopReasonEnum,
      nullable: true,
      description: 'Why Knot stopped the space by itself; null after a stop by a person, and from the next start.',
      resolve: (s) => s.stoppedReason,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

async function servicesOf(space: SpaceParent, template: TemplateRow, ctx: Context): Promise<ServicesView> {
  const none: ServicesView = { terminal: false, codeServer: false, codeServerUrl: null, desktop: false, desktopUrl: null, ssh: false, vscodeTunnel: null, ports: [] };
  if (space.status !== 'RUNNING') return none;
  // From the row, not this replica's memory: the agent may be connected to another replica.
  const report = liveReport(space);
  const ports = report?.ports ?? [];
  const codeServer = template.withCodeServer && !!report?.codeServer;
  const desktop = !!report?.desktop;
  const owner = codeServer || desktop || ports.some((p) => p.protocol !== 'TCP') ? await ownerOf(space, ctx) : null;
  const config = ctx.services.config;
  return {
    // Docker spaces get a terminal through `docker exec` even before their agent reports.
    terminal: template.withTerminal && (template.platform === 'DOCKER' || !!report?.terminal),
    codeServer,
    codeServerUrl: codeServer ? spaceServiceUrl(config, owner!, space, 'code-server') : null,
    desktop,
    desktopUrl: desktop ? spaceServiceUrl(config, owner!, space, 'desktop') : null,
    ssh: template.withSSH && !!report?.ssh,
    vscodeTunnel: template.withVSCodeTunnel ? (report?.vscodeTunnel ?? null) : null,
    ports: ports.map((p) => ({ ...p, url: p.protocol === 'TCP' ? null : portUrl(config, owner!, space, p.port) })),
  };
}

async function ownerOf(space: SpaceParent, ctx: Context): Promise<UserRow> {
  if (space.preloaded) return space.preloaded.owner;
  const [row] = await ctx.services.db.select().from(users).where(eq(users.id, space.ownerId));
  return row!;
}

interface SpaceChange {
  kind: string;
  spaceId: string;
  space: SpaceParent | null;
  /** The event this change reports, for reading the owner's usage once per event. */
  event: EventMap['space'];
  /** Whose usage `usage` reads: the owner's, or for a user the space is only shared with, their own. */
  usageOf: string;
}

const SpaceChangeRef = builder.objectRef<SpaceChange>('SpaceChange').implement({
  fields: (t) => ({
    kind: t.field({ type: SpaceChangeKindEnum, resolve: (c) => c.kind as 'STATUS' }),
    spaceId: t.exposeID('spaceId'),
    space: t.field({
      type: SpaceRef,
      nullable: true,
      description: 'The space as it is now; null once deleted, or once you lost it (unshared from you, or handed from you to someone else).',
      resolve: (c) => c.space,
    }),
    usage: t.field({
      type: UsageRef,
      description:
        "The owner's usage and limits right after this change (read when the event is delivered), so a quota meter follows every create, start, stop and delete live. A user the space is only shared with reads their own (a shared space counts against its owner's quota, not theirs).",
      resolve: (c, _args, ctx) => {
        let byUser = usageForEvent.get(c.event);
        if (!byUser) usageForEvent.set(c.event, (byUser = new Map()));
        let usage = byUser.get(c.usageOf);
        if (!usage) {
          usage = usageOf(ctx.services.db, c.usageOf);
          byUser.set(c.usageOf, usage);
        }
        return usage;
      },
    }),
  }),
});

/** One usage read per event and user, however many subscribers select it. */
const usageForEvent = new WeakMap<object, Map<string, Promise<Usage>>>();

/**
 * One event reaches every subscriber as the same object, so the fresh row (with its template and
 * owner) is read once per event however many subscribers there are. It is read as the event
 * arrives (`prefetch` in the subscriptions' filters), batched with the events of the same tick:
 * a subscriber resolves its events one at a time, and reading only then would cap a busy owner's
 * subscription at one query round trip per event.
 */
const loadedForEvent = new WeakMap<object, Promise<SpaceParent | null>>();
const rowLoaders = new WeakMap<Context['services'], DataLoader<string, SpaceParent | null>>();

function prefetch(event: EventMap['space'], ctx: Context): void {
  if (loadedForEvent.has(event)) return;
  let loader = rowLoaders.get(ctx.services);
  if (!loader) {
    // No cache: every event wants the row as it is now.
    loader = new DataLoader(
      async (ids: readonly string[]) => {
        const rows = await loadSpaceWithParents(ctx, [...ids]);
        return ids.map((id) => rows.find((r) => r.id === id) ?? null);
      },
      { cache: false, maxBatchSize: 500 },
    );
    rowLoaders.set(ctx.services, loader);
  }
  const loaded = loader.load(event.spaceId);
  // Read ahead for an event that may never be sent (its subscriber left, or its backlog was
  // dropped): a failed read must not become an unhandled rejection, which ends the process (seen
  // at shutdown with thousands of agents leaving as the database closed). A subscriber that sends
  // the event still gets the error through changeFromEvent.
  loaded.catch(() => {});
  loadedForEvent.set(event, loaded);
}

/**
 * Whether the event takes the space out of `viewer`'s sight: it was unshared from them, or handed
 * from them to someone else (a manager still sees it, but through `spaces(userId)`, not this one).
 */
function losesSight(e: EventMap['space'], userId: string): boolean {
  return (e.kind === 'UNSHARED' || e.kind === 'TRANSFERRED') && e.userId === userId;
}

/** How many spaces that left a spacesChanged list it remembers, to say again that they went after a resnapshot. */
const RECENTLY_LEFT = 10_000;

/** The change as `audienceId` (whose list or space this subscription follows) may see it. */
function changeFromEvent(event: EventMap['space'], ctx: Context, audienceId: string): Promise<SpaceChange> {
  prefetch(event, ctx);
  // The row is shared by every subscriber; one who just lost the space gets the event without it.
  const hidden = losesSight(event, audienceId);
  const viewer = requireViewer(ctx);
  const usageOf = audienceId === event.ownerId || canManage(viewer, event.ownerId) ? event.ownerId : audienceId;
  return loadedForEvent
    .get(event)!
    .then((space) => ({ kind: event.kind as SpaceChange['kind'], spaceId: event.spaceId, space: hidden ? null : space, event, usageOf }));
}

/** Spaces by id, or a user's list: the spaces they own and (`withShared`) those shared with them. */
async function loadSpaceWithParents(ctx: Context, ids: string[] | { ownerId: string; withShared?: boolean }): Promise<SpaceParent[]> {
  const where = Array.isArray(ids)
    ? inArray(spaces.id, ids)
    : ids.withShared
      ? or(eq(spaces.ownerId, ids.ownerId), inArray(spaces.id, ctx.services.db.select({ id: spaceShares.spaceId }).from(spaceShares).where(eq(spaceShares.userId, ids.ownerId))))
      : eq(spaces.ownerId, ids.ownerId);
  const rows = await ctx.services.db
    .select({ space: spaces, template: templates, owner: users })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .innerJoin(users, eq(users.id, spaces.ownerId))
    .where(where)
    .orderBy(spaces.name);
  return rows.map((r) => ({ ...r.space, preloaded: { template: r.template, owner: r.owner } }));
}

const CreateSpaceInput = builder.inputType('CreateSpaceInput', {
  fields: (t) => ({
    templateId: t.id({ required: true }),
    name: t.string({ required: true }),
    shell: t.field({ type: ShellEnum, description: "Defaults to the owner's preferred shell." }),
    altNames: t.stringList({ description: 'Additional names, e.g. for the web proxy under several domains.' }),
    userId: t.id({ description: 'Create Space For: another user (needs MANAGE_SPACES).' }),
  }),
});

const UpdateSpaceInput = builder.inputType('UpdateSpaceInput', {
  fields: (t) => ({
    name: t.string(),
    altNames: t.stringList(),
    shell: t.field({ type: ShellEnum }),
  }),
});

builder.queryFields((t) => ({
  spaces: t.field({
    type: [SpaceRef],
    description:
      "Your spaces and those shared with you (their `owner` is someone else), or another user's own spaces with MANAGE_SPACES.",
    args: { userId: t.arg.id() },
    resolve: async (_root, { userId }, ctx) => {
      const viewer = requireViewer(ctx);
      const ownerId = userId == null ? viewer.user.id : String(userId);
      if (!canManage(viewer, ownerId)) throw forbidden("view another user's spaces");
      return isUuid(ownerId) ? loadSpaceWithParents(ctx, { ownerId, withShared: ownerId === viewer.user.id }) : [];
    },
  }),
  space: t.field({
    type: SpaceRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => getSpaceFor(ctx.services, requireViewer(ctx), String(id)),
  }),
}));

builder.mutationFields((t) => ({
  createSpace: t.field({
    type: SpaceRef,
    description: 'Created STOPPED: no container and no volume exist until it starts.',
    args: { input: t.arg({ type: CreateSpaceInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createSpace(ctx.services, requireViewer(ctx), {
        ...input,
        templateId: String(input.templateId),
        userId: input.userId == null ? null : String(input.userId),
      }),
  }),
  updateSpace: t.field({
    type: SpaceRef,
    description: 'Rename or change additional names; allowed while running, effective at once.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateSpaceInput, required: true }) },
    resolve: (_root, { id, input }, ctx) => updateSpace(ctx.services, requireViewer(ctx), String(id), input),
  }),
  startSpace: t.field({
    type: SpaceRef,
    description: 'Returns at once with status STARTING; follow spaceChanged for RUNNING or FAILED.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => startSpace(ctx.services, ctx.services.spaceJobs, requireViewer(ctx), String(id)),
  }),
  stopSpace: t.field({
    type: SpaceRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => stopSpace(ctx.services, ctx.services.spaceJobs, requireViewer(ctx), String(id)),
  }),
  restartSpace: t.field({
    type: SpaceRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => restartSpace(ctx.services, ctx.services.spaceJobs, requireViewer(ctx), String(id)),
  }),
  keepSpaceRunning: t.field({
    type: SpaceRef,
    description:
      "Moves an idle or maximum-uptime stop one whole period later (both periods start again now); never past the schedule window's end. SPACE_NOT_RUNNING unless the space runs.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => keepSpaceRunning(ctx.services, requireViewer(ctx), String(id)),
  }),
  deleteSpace: t.boolean({
    description: 'Only STOPPED or FAILED spaces (SPACE_NOT_STOPPED otherwise). Removes the container and every volume with its data.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteSpace(ctx.services, requireViewer(ctx), String(id));
      return true;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  spaceChanged: t.field({
    type: SpaceChangeRef,
    description: 'The space now (kind SNAPSHOT), then every change to it; ends after DELETED.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, ctx) => {
      const viewer = requireViewer(ctx);
      const space = await getSpaceFor(ctx.services, viewer, String(id));
      const snapshot = { spaceId: space.id, ownerId: space.ownerId };
      return ctx.services.pubsub.iterate('space', {
        filter: (e) => {
          if (e.spaceId !== space.id) return false;
          prefetch(e, ctx);
          return true;
        },
        // Unshared from the viewer, or handed away from them: that event (with no space) is the last.
        until: (e) => e.kind === 'DELETED' || losesSight(e as EventMap['space'], viewer.user.id),
        initial: async () => [{ ...snapshot, kind: 'SNAPSHOT' }],
        // After a dropped LISTEN: the space as it is now, or its deletion if it went meanwhile.
        resync: async () => {
          const [row] = await loadSpaceWithParents(ctx, [space.id]);
          const event = { ...snapshot, kind: row ? 'SNAPSHOT' : 'DELETED' };
          loadedForEvent.set(event, Promise.resolve(row ?? null));
          return [event];
        },
      });
    },
    resolve: (event, _args, ctx) => changeFromEvent(event as EventMap['space'], ctx, requireViewer(ctx).user.id),
  }),
  spacesChanged: t.field({
    type: SpaceChangeRef,
    description: "A SNAPSHOT of each of the user's spaces, then every change, creation and deletion.",
    args: { userId: t.arg.id({ description: 'Defaults to you; another user needs MANAGE_SPACES.' }) },
    subscribe: async (_root, { userId }, ctx) => {
      const viewer = requireViewer(ctx);
      const ownerId = userId == null ? viewer.user.id : String(userId);
      if (!canManage(viewer, ownerId)) throw forbidden("watch another user's spaces");
      // The spaces this subscriber has been told about, so a resnapshot can also tell it which went.
      const known = new Set<string>();
      // Spaces that recently left the list: a subscriber that fell behind loses its waiting events
      // (pubsub.ts), their DELETED among them, so a resnapshot says again that they went. Kept
      // across resnapshots (one may be overtaken by the next), the oldest forgotten past a bound.
      const left = new Set<string>();
      // Your own list also follows the spaces shared with you (not another user's, watched by a manager).
      const withShared = ownerId === viewer.user.id;
      const snapshot = async () => {
        // Every snapshot's row in one query, not one per space.
        const rows = await loadSpaceWithParents(ctx, { ownerId, withShared });
        return rows.map((row) => {
          known.add(row.id);
          const event = { spaceId: row.id, ownerId, kind: 'SNAPSHOT' };
          loadedForEvent.set(event, Promise.resolve(row));
          return event;
        });
      };
      return ctx.services.pubsub.iterate('space', {
        filter: (e) => {
          const sharedNow = withShared && e.kind === 'SHARED' && e.userId === ownerId;
          if (e.ownerId !== ownerId && !known.has(e.spaceId) && !sharedNow) return false;
          // Deleted, unshared from this user, or handed away from them: it leaves the list (no space).
          if (e.kind === 'DELETED' || losesSight(e, ownerId)) {
            known.delete(e.spaceId);
            left.add(e.spaceId);
            if (left.size > RECENTLY_LEFT) left.delete(left.values().next().value!);
          } else {
            known.add(e.spaceId);
            left.delete(e.spaceId);
          }
          prefetch(e, ctx);
          return true;
        },
        initial: snapshot,
        // After a dropped LISTEN or a dropped backlog: every space as it is now, and a DELETED for
        // each that went meanwhile (one already told gone may hear it again, which changes nothing).
        resync: async () => {
          const before = new Set([...known, ...left]);
          const current = await snapshot();
          const now = new Set(current.map((e) => e.spaceId));
          const gone = [...before].filter((id) => !now.has(id));
          const deleted = gone.map((spaceId) => {
            known.delete(spaceId);
            const event = { spaceId, ownerId, kind: 'DELETED' };
            loadedForEvent.set(event, Promise.resolve(null));
            return event;
          });
          return [...deleted, ...current];
        },
      });
    },
    resolve: (event, { userId }, ctx) => changeFromEvent(event as EventMap['space'], ctx, userId == null ? requireViewer(ctx).user.id : String(userId)),
  }),
}));
