/**
 * Every GraphQL root field and every HTTP and WebSocket route, asked by every kind of actor, on a
 * real server with a real database and one real running space. The expected outcomes are the
 * table in authorization-matrix.rules.ts; this file only knows how to ask.
 *
 * The fields come from the schema and the routes from the server's own route table, so a new
 * field or route without a row fails here until someone decides who may use it.
 */
import { createHash } from 'node:crypto';
import { isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PERMISSIONS } from '../../server/src/auth/permissions.js';
import type { RouteEntry } from '../../server/src/http/router.js';
import { schema } from '../../server/src/graphql/schema.js';
import { PORT_HOST_ROUTES, SPACE_ROUTES } from '../../server/src/proxy/routes.js';
import { agentBundle, WATCH_SERVICES, type ServicesChange } from '../agent/fixture.js';
import { startTestOidcProvider, testOidcConfig, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { RawGraphQLSocket } from '../helpers/raw-socket.js';
import { createUser } from '../helpers/server.js';
import { httpGet, proxiedJob } from '../proxy/fixture.js';
import { busyboxJob, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ACTORS, FIELD_RULES, ROUTE_RULES, type Actor } from './authorization-matrix.rules.js';

const DOMAIN = 'knot.test';
const PASSWORD = 'correct-horse';
/** The permission each actor's only role holds; the others hold none (admin holds the Admin role). */
const ROLE_OF: Partial<Record<Actor, string>> = {
  SPACES: 'MANAGE_SPACES',
  USERS: 'MANAGE_USERS',
  ROLES: 'MANAGE_ROLES',
  TEMPLATES: 'MANAGE_TEMPLATES',
};

interface Credential {
  username?: string;
  userId?: string;
  /** An API token, sent as `Authorization: Bearer` (and as `connectionParams.token` on graphql-ws). */
  token?: string;
  /** A session cookie (`knot_session=…`), for the routes that read only that. */
  cookie?: string;
}

let h: SpacesHarness;
let oidc: TestOidcProvider;
const as = {} as Record<Actor, Credential>;
const fx = {
  roleIds: {} as Record<string, string>,
  plainTemplateId: '',
  /** A template turned inactive: only template managers see it. */
  inactiveTemplateId: '',
  manualTemplateId: '',
  /** The owner's running space with code-server, the desktop, HTTP ports 8080/8443 and TCP 9000. */
  runningSpaceId: '',
  /** The owner's stopped Docker space: a target that nothing starts. */
  stoppedSpaceId: '',
  /** The owner's manual space: its agent token, and start/stop that pass authorization but not the state machine. */
  manualSpaceId: '',
  /** A user with no role, for edits. */
  plainUserId: '',
  /** A user holding MANAGE_TEMPLATES, whom a user manager without it must not take over. */
  templatesHolderId: '',
  variableId: '',
  /** A group whose only member is the owner. */
  groupId: '',
  /** A template open only to that group. */
  groupTemplateId: '',
  /** The owner's running proxied space "shared", shared with the `other` actor. */
  sharedRunningSpaceId: '',
  /** The owner's manual space shared with `other`: start/stop pass authorization but not the state machine. */
  sharedManualSpaceId: '',
  /** A webhook (to a closed local port) and one of its deliveries. */
  webhookId: '',
  deliveryId: '',
};
const portHost = (space = 'proxied') => `owner--${space}--8080.${DOMAIN}`;
const HOOK_URL = 'http://127.0.0.1:9/knot-matrix';
const HOOK_SECRET = 'a-matrix-secret-of-some-length';
const newWebhook = async (events: string[]) =>
  (await asAdmin<{ createWebhook: { id: string } }>(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }`, { i: { url: HOOK_URL, secret: HOOK_SECRET, events } })).createWebhook.id;
const bearer = (actor: Actor): Record<string, string> => (as[actor].token ? { authorization: `Bearer ${as[actor].token}` } : {});
const lower = (actor: Actor) => actor.toLowerCase();

// ---- asking -------------------------------------------------------------------------------------

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: string } }[];
}

async function post(headers: Record<string, string>, query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer> {
  const res = await fetch(`${h.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLAnswer;
}

const outcomeOf = (answer: GraphQLAnswer) => (answer.errors?.length ? String(answer.errors[0]!.extensions?.code) : 'ok');

/** As the admin, for setting targets up; throws when refused. */
async function asAdmin<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const answer = await post(bearer('admin'), query, variables);
  if (answer.errors?.length) throw new Error(`setup step refused: ${JSON.stringify(answer.errors)}`);
  return answer.data as T;
}

type Call = (actor: Actor) => Promise<string>;

/** A GraphQL operation as `actor`; `vars` may first set up a target of the actor's own (as the admin). */
function gql(query: string, vars: (actor: Actor) => Record<string, unknown> | Promise<Record<string, unknown>> = () => ({})): Call {
  return async (actor) => outcomeOf(await post(bearer(actor), query, await vars(actor)));
}

/** A subscription over graphql-ws: the first event, the error, or the close code if the socket never got that far. */
function subscribeWs(query: string, variables: () => Record<string, unknown>): Call {
  return async (actor) => {
    const socket = new RawGraphQLSocket(h.server.url, { connectionParams: as[actor].token ? { token: as[actor].token } : {} });
    try {
      const acknowledged = await socket.acknowledged(15_000).then(
        () => true,
        () => false,
      );
      if (!acknowledged) return `WS ${await socket.closeCode()}`;
      socket.subscribe('1', query, variables());
      const first = await socket.waitFor((m) => m.id === '1' && (m.type === 'next' || m.type === 'error'), 15_000);
      if (first.type === 'error') return String((first.payload as GraphQLAnswer['errors'])![0]!.extensions?.code);
      return outcomeOf(first.payload as GraphQLAnswer);
    } finally {
      socket.socket.close();
    }
  };
}

/** A subscription over server-sent events: the first event's outcome. */
function subscribeSse(query: string, variables: () => Record<string, unknown>): Call {
  return async (actor) => {
    const abort = new AbortController();
    try {
      const res = await fetch(`${h.server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(actor) },
        body: JSON.stringify({ query, variables: variables() }),
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
        const data = /(?:^|\n)data: (.*)\n/.exec(text);
        if (data) return outcomeOf(JSON.parse(data[1]!) as GraphQLAnswer);
      }
      return `HTTP ${res.status} without an event`;
    } finally {
      abort.abort();
    }
  };
}

/** A plain HTTP request's status (`what` may name where a redirect went). */
function http(path: string, headers: (actor: Actor) => Record<string, string> = bearer): Call {
  return async (actor) => `HTTP ${(await httpGet(`${h.server.url}${path}`, headers(actor))).status}`;
}

/**
 * A WebSocket's outcome: 'WS open' once the far end says something (after `hello`, if given),
 * 'WS <code>' when the server closes it first, 'HTTP <status>' when the handshake is refused.
 */
function ws(path: string, options: { headers?: (actor: Actor) => Record<string, string>; hello?: Buffer } = {}): Call {
  return (actor) =>
    new Promise<string>((resolve) => {
      const socket = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}${path}`, { headers: (options.headers ?? bearer)(actor) });
      const done = (outcome: string) => {
        clearTimeout(timer);
        resolve(outcome);
        socket.terminate();
      };
      const timer = setTimeout(() => done('WS silent for 20 s'), 20_000);
      socket.on('unexpected-response', (_req, res) => done(`HTTP ${res.statusCode}`));
      socket.on('open', () => options.hello && socket.send(options.hello));
      socket.on('message', () => done('WS open'));
      socket.on('close', (code) => done(`WS ${code}`));
      socket.on('error', (err) => done(`WS error ${err.message}`));
    });
}

/** Logs the actor in afresh (a session of its own to end), or nothing for anonymous. */
async function freshSession(actor: Actor): Promise<Record<string, string>> {
  if (actor === 'anonymous') return {};
  const session = await h.server.anonymous.login(as[actor].username!, PASSWORD);
  return { cookie: session.cookie! };
}

/** The state cookie a port host sets before the handoff, and the hash it sends to port-login. */
const PORT_STATE = 'matrix-browser-state';
const PORT_STATE_HASH = createHash('sha256').update(PORT_STATE).digest('base64url');

/** Where port-login sent the actor: to log in, to the port host with a ticket, or a refusal. */
async function portLogin(actor: Actor, space?: string) {
  const to = encodeURIComponent(`http://${portHost(space)}/page`);
  const res = await httpGet(`${h.server.url}/spaces/port-login?to=${to}&state=${PORT_STATE_HASH}`, as[actor].cookie ? { cookie: as[actor].cookie } : {});
  const location = String(res.headers.location ?? '');
  const what = res.status !== 302 ? '' : location.startsWith('/login') ? ' login' : location.includes('/__knot/auth') ? ' ticket' : ` to ${location}`;
  return { outcome: `HTTP ${res.status}${what}`, location };
}

const SPACE_CHANGED = `subscription($id: ID!) { spaceChanged(id: $id) { kind spaceId } }`;
const SPACES_CHANGED = `subscription($userId: ID) { spacesChanged(userId: $userId) { kind spaceId } }`;
const ID = (id: () => string) => () => ({ id: id() });
const newRole = async (name: string) => (await asAdmin<{ createRole: { id: string } }>(`mutation($n: String!) { createRole(name: $n, permissions: []) { id } }`, { n: name })).createRole.id;
const newUser = async (username: string, roleIds: string[] = []) =>
  (await asAdmin<{ createUser: { id: string } }>(`mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: { username, email: `${username}@example.com`, password: PASSWORD, roleIds } })).createUser.id;
const newTemplate = async (name: string) =>
  (await asAdmin<{ createTemplate: { id: string } }>(`mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }`, { i: { name, job: busyboxJob() } })).createTemplate.id;
/** A template whose job carries `extra` (one of the keys that hand a space the Docker host). */
const createTemplateWith = (extra: string) =>
  gql(`mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }`, (a) => ({ i: { name: `${extra.split(':')[0]} by ${a}`, job: busyboxJob(extra) } }));
const newSpace = async (name: string, templateId = fx.plainTemplateId) => (await h.createSpace({ templateId, name, userId: as.owner.userId })).id;
/** As the owner (only the owner shares): lets `userId` use the space. */
async function share(spaceId: string, userId: string) {
  const answer = await post(bearer('owner'), `mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id } }`, { id: spaceId, u: userId });
  if (answer.errors?.length) throw new Error(`setup step refused: ${JSON.stringify(answer.errors)}`);
}
/** A new space of the owner's, shared with `other`. */
const newSharedSpace = async (name: string) => {
  const id = await newSpace(name);
  await share(id, as.other.userId!);
  return id;
};

const CALLS: Record<string, Call> = {
  'Query.me': gql(`{ me { id } }`),
  'Query.serverInfo': gql(`{ serverInfo { setupRequired } }`),
  'Query.signInMethods': gql(`{ signInMethods { password sso { name loginUrl } } }`),
  'Query.providerLogoutUrl': gql(`{ providerLogoutUrl }`),
  'Query.apiTokens': gql(`{ apiTokens { id } }`),
  'Query.auditLog': gql(`{ auditLog(first: 1) { nextCursor } }`),
  'Query.roles': gql(`{ roles { id } }`),
  'Query.users': gql(`{ users { id } }`),
  'Query.space': gql(`query($id: ID!) { space(id: $id) { id } }`, ID(() => fx.stoppedSpaceId)),
  'Query.spaces': gql(`query($u: ID) { spaces(userId: $u) { id } }`, () => ({ u: as.owner.userId })),
  'Query.templates': gql(`{ templates { id } }`),
  'Query.starterTemplates': gql(`{ starterTemplates { id } }`),
  'Query.template': gql(`query($id: ID!) { template(id: $id) { id } }`, ID(() => fx.plainTemplateId)),
  'Query.template (inactive)': gql(`query($id: ID!) { template(id: $id) { id } }`, ID(() => fx.inactiveTemplateId)),
  'Query.variables': gql(`{ variables { id } }`),
  "Query.template (open only to the owner's group)": gql(`query($id: ID!) { template(id: $id) { id } }`, ID(() => fx.groupTemplateId)),
  'Query.groups': gql(`{ groups { id } }`),
  'Query.group': gql(`query($id: ID!) { group(id: $id) { id } }`, ID(() => fx.groupId)),
  'Mutation.createGroup': gql(`mutation($n: String!) { createGroup(name: $n, maxSpaces: 3) { id } }`, (a) => ({ n: `made by ${a}` })),
  'Mutation.updateGroup': gql(`mutation($id: ID!, $d: String!) { updateGroup(id: $id, description: $d, computeUnits: 8) { id } }`, (a) => ({ id: fx.groupId, d: `edited by ${a}` })),
  'Mutation.deleteGroup': gql(`mutation($id: ID!) { deleteGroup(id: $id) }`, async (a) => ({
    id: (await asAdmin<{ createGroup: { id: string } }>(`mutation($n: String!) { createGroup(name: $n) { id } }`, { n: `drop ${a}` })).createGroup.id,
  })),
  'Query.webhooks': gql(`{ webhooks { id events lastDelivery { id } deliveries(first: 5) { id status } } }`),
  'Query.webhook': gql(`query($id: ID!) { webhook(id: $id) { id url } }`, ID(() => fx.webhookId)),
  'Query.webhookEvents': gql(`{ webhookEvents }`),
  'Mutation.createWebhook': gql(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }`, () => ({ i: { url: HOOK_URL, secret: HOOK_SECRET, events: ['space.started'] } })),
  'Mutation.updateWebhook': gql(`mutation($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) { id } }`, () => ({ id: fx.webhookId, i: { events: ['user.created', 'user.deleted'] } })),
  'Mutation.deleteWebhook': gql(`mutation($id: ID!) { deleteWebhook(id: $id) }`, async () => ({ id: await newWebhook(['space.deleted']) })),
  'Mutation.redeliverWebhookDelivery': gql(`mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { id } }`, ID(() => fx.deliveryId)),
  'Mutation.updateUser (groupIds)': gql(`mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`, () => ({
    id: fx.plainUserId,
    g: [fx.groupId],
  })),

  'Mutation.setup': gql(`mutation($i: SetupInput!) { setup(input: $i) { id } }`, (a) => ({ i: { username: `setup-${lower(a)}`, email: `setup-${lower(a)}@example.com`, password: PASSWORD } })),
  // Each actor signs in a user of its own: eight at once into one account would meet the login throttle.
  'Mutation.login': gql(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { id } }`, (a) => ({ u: `probe-${lower(a)}`, p: PASSWORD })),
  'Mutation.logout': async (actor) => outcomeOf(await post(await freshSession(actor), `mutation { logout }`)),
  'Mutation.createApiToken': gql(`mutation { createApiToken(name: "matrix") { token } }`),
  'Mutation.revokeApiToken': gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, async (a) => {
    const made = await post(bearer('owner'), `mutation($n: String!) { createApiToken(name: $n) { apiToken { id } } }`, { n: `to revoke by ${a}` });
    return { id: (made.data!.createApiToken as { apiToken: { id: string } }).apiToken.id };
  }),
  'Mutation.updateProfile': gql(`mutation { updateProfile(input: { timezone: "UTC" }) { id } }`),
  'Query.serverSettings': gql(`{ serverSettings { requireTwoFactor } }`),
  'Mutation.enableTotp': gql(`mutation { enableTotp { uri } }`),
  // Enabled first (as far as the actor may), so every actor who gets past authorization meets the wrong code.
  'Mutation.confirmTotp': async (actor) => {
    await post(bearer(actor), `mutation { enableTotp { uri } }`, {});
    return outcomeOf(await post(bearer(actor), `mutation { confirmTotp(code: "not-a-code") }`, {}));
  },
  'Mutation.disableTotp': gql(`mutation { disableTotp(password: "${PASSWORD}") }`),
  'Mutation.resetUserTotp': gql(`mutation($id: ID!) { resetUserTotp(userId: $id) { id } }`, () => ({ id: fx.plainUserId })),
  'Mutation.updateServerSettings': gql(`mutation { updateServerSettings(input: { requireTwoFactor: false }) { requireTwoFactor } }`),

  'Mutation.createUser': gql(`mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, (a) => ({
    i: { username: `made-${lower(a)}`, email: `made-${lower(a)}@example.com`, password: PASSWORD },
  })),
  'Mutation.createUser (with a role holding a permission the actor lacks)': gql(`mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, (a) => ({
    i: { username: `granted-${lower(a)}`, email: `granted-${lower(a)}@example.com`, password: PASSWORD, roleIds: [fx.roleIds.MANAGE_ROLES] },
  })),
  'Mutation.updateUser': gql(`mutation($id: ID!) { updateUser(id: $id, input: { timezone: "Europe/Paris" }) { id } }`, ID(() => fx.plainUserId)),
  'Mutation.updateUser (target holds a permission the actor lacks)': gql(
    `mutation($id: ID!, $p: String!) { updateUser(id: $id, input: { password: $p }) { id } }`,
    (a) => ({ id: fx.templatesHolderId, p: `taken-over-by-${lower(a)}` }),
  ),
  'Mutation.deleteUser (target holds a permission the actor lacks)': gql(`mutation($id: ID!) { deleteUser(id: $id) }`, async (a) => ({
    id: await newUser(`gone-maker-${lower(a)}`, [fx.roleIds.MANAGE_TEMPLATES!]),
  })),
  'Mutation.revokeUserSessions': gql(`mutation($id: ID!) { revokeUserSessions(id: $id) }`, async (a) => ({ id: await newUser(`signed-out-${lower(a)}`) })),
  'Mutation.revokeUserSessions (target holds a permission the actor lacks)': gql(`mutation($id: ID!) { revokeUserSessions(id: $id) }`, async (a) => ({
    id: await newUser(`signed-out-maker-${lower(a)}`, [fx.roleIds.MANAGE_TEMPLATES!]),
  })),
  'Mutation.deleteUser': gql(`mutation($id: ID!) { deleteUser(id: $id) }`, async (a) => ({ id: await newUser(`gone-${lower(a)}`) })),

  'Mutation.createRole': gql(`mutation($n: String!) { createRole(name: $n, permissions: []) { id } }`, (a) => ({ n: `made by ${a}` })),
  'Mutation.createRole (with a permission the actor lacks)': gql(`mutation($n: String!, $p: [Permission!]!) { createRole(name: $n, permissions: $p) { id } }`, (a) => ({
    n: `everything by ${a}`,
    p: [...PERMISSIONS],
  })),
  'Mutation.updateRole': gql(`mutation($id: ID!, $n: String!) { updateRole(id: $id, name: $n) { id } }`, async (a) => ({ id: await newRole(`rename ${a}`), n: `renamed by ${a}` })),
  'Mutation.updateRole (adds a permission the actor lacks)': gql(`mutation($id: ID!, $p: [Permission!]) { updateRole(id: $id, permissions: $p) { id } }`, async (a) => ({
    id: await newRole(`grow ${a}`),
    p: [...PERMISSIONS],
  })),
  'Mutation.deleteRole': gql(`mutation($id: ID!) { deleteRole(id: $id) }`, async (a) => ({ id: await newRole(`drop ${a}`) })),

  'Mutation.createTemplate': gql(`mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }`, (a) => ({ i: { name: `made by ${a}`, job: busyboxJob() } })),
  // The manual starter: no image, so nothing is pulled for it.
  'Mutation.pullTemplateImage': gql(`mutation($id: ID!) { pullTemplateImage(id: $id) { present } }`, ID(() => fx.plainTemplateId)),
  'Mutation.createTemplateFromStarter': gql(`mutation { createTemplateFromStarter(starterId: "manual") { id } }`),
  'Mutation.createTemplate (privileged: true)': gql(`mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }`, (a) => ({
    i: { name: `privileged by ${a}`, job: busyboxJob('privileged: true\n') },
  })),
  'Mutation.createTemplate (host bind mount)': createTemplateWith('volumes:\n  - /:/host\n'),
  'Mutation.createTemplate (network: host)': createTemplateWith('network: host\n'),
  'Mutation.createTemplate (cap_add)': createTemplateWith('cap_add:\n  - SYS_ADMIN\n'),
  'Mutation.createTemplate (devices)': createTemplateWith('devices:\n  - /dev/fuse\n'),
  'Mutation.createTemplate (ports published on the host)': createTemplateWith('ports:\n  - "8080"\n'),
  'Mutation.updateTemplate (privileged: true)': gql(`mutation($id: ID!, $job: String!) { updateTemplate(id: $id, input: { job: $job }) { id } }`, async (a) => ({
    id: await newTemplate(`to privilege by ${a}`),
    job: busyboxJob('privileged: true\n'),
  })),
  'Mutation.updateTemplate': gql(`mutation($id: ID!, $d: String!) { updateTemplate(id: $id, input: { description: $d }) { id } }`, (a) => ({ id: fx.plainTemplateId, d: `edited by ${a}` })),
  'Mutation.deleteTemplate': gql(`mutation($id: ID!) { deleteTemplate(id: $id) }`, async (a) => ({ id: await newTemplate(`drop ${a}`) })),
  'Mutation.createVariable': gql(`mutation($n: String!) { createVariable(name: $n, value: "x") { id } }`, (a) => ({ n: `MADE_BY_${a.toUpperCase()}` })),
  'Mutation.updateVariable': gql(`mutation($id: ID!, $v: String!) { updateVariable(id: $id, value: $v) { id } }`, (a) => ({ id: fx.variableId, v: `by ${a}` })),
  'Mutation.deleteVariable': gql(`mutation($id: ID!) { deleteVariable(id: $id) }`, async (a) => ({
    id: (await asAdmin<{ createVariable: { id: string } }>(`mutation($n: String!) { createVariable(name: $n, value: "x") { id } }`, { n: `DROP_${a.toUpperCase()}` })).createVariable.id,
  })),

  'Mutation.createSpace': gql(`mutation($i: CreateSpaceInput!) { createSpace(input: $i) { id } }`, (a) => ({
    i: { templateId: fx.plainTemplateId, name: `made-by-${lower(a)}`, userId: as.owner.userId },
  })),
  'Mutation.updateSpace': gql(`mutation($id: ID!) { updateSpace(id: $id, input: { shell: sh }) { id } }`, ID(() => fx.stoppedSpaceId)),
  'Mutation.startSpace': gql(`mutation($id: ID!) { startSpace(id: $id) { id } }`, ID(() => fx.manualSpaceId)),
  'Mutation.stopSpace': gql(`mutation($id: ID!) { stopSpace(id: $id) { id } }`, ID(() => fx.manualSpaceId)),
  'Mutation.restartSpace': gql(`mutation($id: ID!) { restartSpace(id: $id) { id } }`, ID(() => fx.manualSpaceId)),
  'Mutation.keepSpaceRunning': gql(`mutation($id: ID!) { keepSpaceRunning(id: $id) { id } }`, ID(() => fx.manualSpaceId)),
  'Mutation.deleteSpace': gql(`mutation($id: ID!) { deleteSpace(id: $id) }`, async (a) => ({ id: await newSpace(`drop-${lower(a)}`) })),
  'Mutation.createAgentToken': gql(`mutation($id: ID!) { createAgentToken(spaceId: $id) { token } }`, ID(() => fx.manualSpaceId)),
  'Query.space (terminalSessions)': gql(`query($id: ID!) { space(id: $id) { terminalSessions { id } } }`, ID(() => fx.runningSpaceId)),
  'Mutation.closeTerminalSession': gql(`mutation($id: ID!, $s: ID!) { closeTerminalSession(spaceId: $id, sessionId: $s) }`, () => ({ id: fx.runningSpaceId, s: 'no-such-session' })),

  'Query.space (shared with other)': gql(`query($id: ID!) { space(id: $id) { id } }`, ID(() => fx.sharedManualSpaceId)),
  'Query.space (sharedWith)': gql(`query($id: ID!) { space(id: $id) { sharedWith { id } } }`, ID(() => fx.stoppedSpaceId)),
  'Query.space (sharedWith, shared with other)': gql(`query($id: ID!) { space(id: $id) { sharedWith { id } } }`, ID(() => fx.sharedManualSpaceId)),
  'Query.space (terminalSessions, shared with other)': gql(`query($id: ID!) { space(id: $id) { terminalSessions { id } } }`, ID(() => fx.sharedRunningSpaceId)),
  'Mutation.closeTerminalSession (shared with other)': gql(`mutation($id: ID!, $s: ID!) { closeTerminalSession(spaceId: $id, sessionId: $s) }`, () => ({ id: fx.sharedRunningSpaceId, s: 'no-such-session' })),
  'Mutation.startSpace (shared with other)': gql(`mutation($id: ID!) { startSpace(id: $id) { id } }`, ID(() => fx.sharedManualSpaceId)),
  'Mutation.stopSpace (shared with other)': gql(`mutation($id: ID!) { stopSpace(id: $id) { id } }`, ID(() => fx.sharedManualSpaceId)),
  'Mutation.restartSpace (shared with other)': gql(`mutation($id: ID!) { restartSpace(id: $id) { id } }`, ID(() => fx.sharedManualSpaceId)),
  'Mutation.keepSpaceRunning (shared with other)': gql(`mutation($id: ID!) { keepSpaceRunning(id: $id) { id } }`, ID(() => fx.sharedManualSpaceId)),
  'Mutation.updateSpace (shared with other)': gql(`mutation($id: ID!) { updateSpace(id: $id, input: { shell: sh }) { id } }`, ID(() => fx.sharedManualSpaceId)),
  'Mutation.deleteSpace (shared with other)': gql(`mutation($id: ID!) { deleteSpace(id: $id) }`, async (a) => ({ id: await newSharedSpace(`drop-shared-${lower(a)}`) })),
  'Subscription.spaceChanged (shared with other)': subscribeWs(SPACE_CHANGED, ID(() => fx.sharedManualSpaceId)),
  'Subscription.spaceChanged (server-sent events, shared with other)': subscribeSse(SPACE_CHANGED, ID(() => fx.sharedManualSpaceId)),
  'Mutation.shareSpace': gql(`mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id } }`, () => ({ id: fx.stoppedSpaceId, u: fx.plainUserId })),
  'Mutation.shareSpace (shared with other)': gql(`mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id } }`, () => ({ id: fx.sharedManualSpaceId, u: fx.plainUserId })),
  'Query.shareCandidates': gql(`query($id: ID!) { shareCandidates(spaceId: $id, search: "p") { id } }`, ID(() => fx.stoppedSpaceId)),
  'Query.shareCandidates (shared with other)': gql(`query($id: ID!) { shareCandidates(spaceId: $id, search: "p") { id } }`, ID(() => fx.sharedManualSpaceId)),
  'Mutation.unshareSpace': gql(`mutation($id: ID!, $u: ID!) { unshareSpace(id: $id, userId: $u) }`, async (a) => {
    const u = await newUser(`unshared-${lower(a)}`);
    await share(fx.stoppedSpaceId, u);
    return { id: fx.stoppedSpaceId, u };
  }),
  'Mutation.unshareSpace (shared with other, who leaves)': gql(`mutation($id: ID!, $u: ID!) { unshareSpace(id: $id, userId: $u) }`, async (a) => ({
    id: await newSharedSpace(`left-${lower(a)}`),
    u: as.other.userId,
  })),
  'Mutation.unshareSpace (shared with other, removing someone else)': gql(`mutation($id: ID!, $u: ID!) { unshareSpace(id: $id, userId: $u) }`, async (a) => {
    const u = await newUser(`bystander-${lower(a)}`);
    await share(fx.sharedManualSpaceId, u);
    return { id: fx.sharedManualSpaceId, u };
  }),
  'Mutation.transferSpace': gql(`mutation($id: ID!, $u: ID!) { transferSpace(id: $id, userId: $u) { id } }`, async (a) => ({ id: await newSpace(`handed-${lower(a)}`), u: fx.plainUserId })),
  'Mutation.transferSpace (to the caller)': gql(`mutation($id: ID!, $u: ID!) { transferSpace(id: $id, userId: $u) { id } }`, async (a) => ({
    id: await newSpace(`taken-${lower(a)}`),
    u: as[a].userId ?? fx.plainUserId,
  })),
  'Mutation.transferSpace (shared with other)': gql(`mutation($id: ID!, $u: ID!) { transferSpace(id: $id, userId: $u) { id } }`, async (a) => ({
    id: await newSharedSpace(`handed-shared-${lower(a)}`),
    u: fx.plainUserId,
  })),

  'Subscription.spaceChanged': subscribeWs(SPACE_CHANGED, ID(() => fx.stoppedSpaceId)),
  'Subscription.spacesChanged': subscribeWs(SPACES_CHANGED, () => ({ userId: as.owner.userId })),
  'Subscription.templateImagePull': subscribeWs(`subscription($id: ID!) { templateImagePull(templateId: $id) { present } }`, ID(() => fx.plainTemplateId)),
  'Subscription.spaceChanged (server-sent events)': subscribeSse(SPACE_CHANGED, ID(() => fx.stoppedSpaceId)),
  'Subscription.spacesChanged (server-sent events)': subscribeSse(SPACES_CHANGED, () => ({ userId: as.owner.userId })),

  'HTTP /graphql': async (actor) => {
    const res = await fetch(`${h.server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(actor) }, body: '{"query":"{ __typename }"}' });
    return `HTTP ${res.status}`;
  },
  'WS /graphql': async (actor) => {
    const socket = new RawGraphQLSocket(h.server.url, { connectionParams: as[actor].token ? { token: as[actor].token } : {} });
    try {
      await socket.acknowledged(15_000);
      return 'WS ack';
    } catch {
      return `WS ${await socket.closeCode()}`;
    } finally {
      socket.socket.close();
    }
  },
  'HTTP /healthz': http('/healthz'),
  'HTTP /metrics': http('/metrics'),
  'WS /agent': ws('/agent', { headers: (a) => ({ ...bearer(a), 'x-knot-space-id': fx.manualSpaceId }) }),
  'HTTP /agent/knot-agent.mjs': http('/agent/knot-agent.mjs'),
  'WS /internal/relay': ws('/internal/relay'),
  'HTTP /auth/oidc/login': async (actor) => {
    const res = await httpGet(`${h.server.url}/auth/oidc/login`, { ...bearer(actor), ...(as[actor].cookie ? { cookie: as[actor].cookie } : {}) });
    return `HTTP ${res.status}${String(res.headers.location).startsWith(oidc.issuer) ? ' provider' : ''}`;
  },
  'HTTP /auth/oidc/callback': async (actor) => {
    const res = await httpGet(`${h.server.url}/auth/oidc/callback?state=forged&code=forged`, { ...bearer(actor), ...(as[actor].cookie ? { cookie: as[actor].cookie } : {}) });
    return `HTTP ${res.status} ${new URL(String(res.headers.location), h.server.url).searchParams.get('error')}`;
  },

  'HTTP /spaces/port-login': async (actor) => (await portLogin(actor)).outcome,
  'HTTP /spaces/<id>/terminal': async (a) => http(`/spaces/${fx.runningSpaceId}/terminal`)(a),
  'WS /spaces/<id>/terminal': async (a) => ws(`/spaces/${fx.runningSpaceId}/terminal?cols=80&rows=24`)(a),
  'HTTP /spaces/<id>/forward/<port>': async (a) => http(`/spaces/${fx.runningSpaceId}/forward/9000`)(a),
  'WS /spaces/<id>/forward/<port>': async (a) => ws(`/spaces/${fx.runningSpaceId}/forward/9000`, { hello: Buffer.from('echo me') })(a),
  'HTTP /spaces/<id>/code-server/*': async (a) => http(`/spaces/${fx.runningSpaceId}/code-server/healthz`)(a),
  'WS /spaces/<id>/code-server/*': async (a) => ws(`/spaces/${fx.runningSpaceId}/code-server/live`)(a),
  'HTTP /spaces/<id>/desktop/*': async (a) => http(`/spaces/${fx.runningSpaceId}/desktop/`)(a),
  'WS /spaces/<id>/desktop/*': async (a) => ws(`/spaces/${fx.runningSpaceId}/desktop/websockify`)(a),
  'HTTP /spaces/<id>/ports/<port>/*': async (a) => http(`/spaces/${fx.runningSpaceId}/ports/8080/page`)(a),
  'WS /spaces/<id>/ports/<port>/*': async (a) => ws(`/spaces/${fx.runningSpaceId}/ports/8080/live`)(a),

  'WS /spaces/<id>/terminal (space stopped)': async (a) => ws(`/spaces/${fx.stoppedSpaceId}/terminal?cols=80&rows=24`)(a),
  'WS /spaces/<id>/forward/<port> (space stopped)': async (a) => ws(`/spaces/${fx.stoppedSpaceId}/forward/9000`, { hello: Buffer.from('echo me') })(a),
  'HTTP /spaces/<id>/code-server/* (space stopped)': async (a) => http(`/spaces/${fx.stoppedSpaceId}/code-server/healthz`)(a),
  'HTTP /spaces/<id>/ports/<port>/* (space stopped)': async (a) => http(`/spaces/${fx.stoppedSpaceId}/ports/8080/page`)(a),
  'HTTP <port host>/* (space stopped)': http('/page', (a) => ({ host: `owner--stopped--8080.${DOMAIN}`, ...bearer(a) })),

  'HTTP /spaces/port-login (shared with other)': async (actor) => (await portLogin(actor, 'shared')).outcome,
  'WS /spaces/<id>/terminal (shared with other)': async (a) => ws(`/spaces/${fx.sharedRunningSpaceId}/terminal?cols=80&rows=24`)(a),
  'WS /spaces/<id>/forward/<port> (shared with other)': async (a) => ws(`/spaces/${fx.sharedRunningSpaceId}/forward/9000`, { hello: Buffer.from('echo me') })(a),
  'HTTP /spaces/<id>/code-server/* (shared with other)': async (a) => http(`/spaces/${fx.sharedRunningSpaceId}/code-server/healthz`)(a),
  'WS /spaces/<id>/code-server/* (shared with other)': async (a) => ws(`/spaces/${fx.sharedRunningSpaceId}/code-server/live`)(a),
  'HTTP /spaces/<id>/desktop/* (shared with other)': async (a) => http(`/spaces/${fx.sharedRunningSpaceId}/desktop/`)(a),
  'HTTP /spaces/<id>/ports/<port>/* (shared with other)': async (a) => http(`/spaces/${fx.sharedRunningSpaceId}/ports/8080/page`)(a),
  'WS /spaces/<id>/ports/<port>/* (shared with other)': async (a) => ws(`/spaces/${fx.sharedRunningSpaceId}/ports/8080/live`)(a),
  'HTTP <port host>/* (shared with other)': http('/page', (a) => ({ host: portHost('shared'), ...bearer(a) })),
  'WS <port host>/* (shared with other)': ws('/live', { headers: (a) => ({ host: portHost('shared'), ...bearer(a) }) }),

  'HTTP <port host>/__knot/auth': async (actor) => {
    const { location } = await portLogin(actor);
    const back = location.includes('/__knot/auth') ? new URL(location) : new URL('/__knot/auth?to=/', `http://${portHost()}`);
    // Sent from the browser that asked: the port host's state cookie goes with it.
    return `HTTP ${(await httpGet(`${h.server.url}${back.pathname}${back.search}`, { host: portHost(), cookie: `knot_port_state=${PORT_STATE}` })).status}`;
  },
  'HTTP <port host>/*': http('/page', (a) => ({ host: portHost(), ...bearer(a) })),
  'WS <port host>/*': ws('/live', { headers: (a) => ({ host: portHost(), ...bearer(a) }) }),

  'HTTP * (web UI)': async (actor) => {
    const res = await httpGet(`${h.server.url}/`, bearer(actor));
    // The UI may not be built in a test run; then every caller gets the same "not built yet" page.
    return res.status === 200 || (res.status === 503 && res.body.includes('not built yet')) ? 'web UI' : `HTTP ${res.status}`;
  },
  'WS * (no route)': ws('/no-such-route'),
};

// ---- the fixture --------------------------------------------------------------------------------

beforeAll(async () => {
  await agentBundle();
  oidc = await startTestOidcProvider();
  oidc.register('http://knot.invalid');
  h = await startSpacesHarness({
    host: '0.0.0.0',
    config: {
      wildcardDomain: `*.${DOMAIN}`,
      metricsToken: 'matrix-metrics-token',
      oidc: { ...testOidcConfig(oidc.issuer) },
      webhookAllowPrivate: true,
    },
  });
  as.anonymous = {};
  as.admin = { username: 'admin', userId: h.admin.userId, token: h.admin.token };
  for (const permission of Object.values(ROLE_OF)) {
    fx.roleIds[permission!] = (await asAdmin<{ createRole: { id: string } }>(`mutation($n: String!, $p: [Permission!]!) { createRole(name: $n, permissions: $p) { id } }`, { n: permission, p: [permission] })).createRole.id;
  }
  await Promise.all(
    (['other', 'SPACES', 'USERS', 'ROLES', 'TEMPLATES', 'owner'] as const).map(async (actor) => {
      const username = lower(actor);
      const role = ROLE_OF[actor];
      const user = await createUser(h.server, h.admin.client, username, role ? [fx.roleIds[role]!] : []);
      as[actor] = { username, userId: user.userId, token: user.token };
      await user.client.close();
    }),
  );
  await Promise.all(
    ACTORS.filter((a) => a !== 'anonymous').map(async (actor) => {
      as[actor].cookie = (await h.server.anonymous.login(as[actor].username!, PASSWORD)).cookie!;
    }),
  );
  fx.plainUserId = await newUser('plain');
  fx.templatesHolderId = await newUser('template-maker', [fx.roleIds.MANAGE_TEMPLATES!]);
  await Promise.all(ACTORS.map((actor) => newUser(`probe-${lower(actor)}`)));
  fx.variableId = (await asAdmin<{ createVariable: { id: string } }>(`mutation { createVariable(name: "SHARED", value: "x") { id } }`)).createVariable.id;

  fx.plainTemplateId = (await h.createTemplate({ name: 'plain' })).id;
  fx.groupId = (await asAdmin<{ createGroup: { id: string } }>(`mutation { createGroup(name: "owners") { id } }`)).createGroup.id;
  await asAdmin(`mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`, { id: as.owner.userId, g: [fx.groupId] });
  fx.groupTemplateId = (await h.createTemplate({ name: 'owners only', groupIds: [fx.groupId] })).id;
  fx.webhookId = await newWebhook(['user.created']);
  await newUser('hooked');
  const hooked = await asAdmin<{ webhook: { deliveries: { id: string }[] } }>(`query($id: ID!) { webhook(id: $id) { deliveries { id } } }`, { id: fx.webhookId });
  fx.deliveryId = hooked.webhook.deliveries[0]!.id;
  fx.inactiveTemplateId = (await h.createTemplate({ name: 'retired', active: false })).id;
  fx.manualTemplateId = (await h.createTemplate({ name: 'manual', platform: 'MANUAL', job: '' })).id;
  const proxiedTemplateId = (await h.createTemplate({ name: 'proxied', job: proxiedJob(), withCodeServer: true })).id;
  fx.stoppedSpaceId = await newSpace('stopped');
  fx.manualSpaceId = await newSpace('manual', fx.manualTemplateId);
  fx.runningSpaceId = await newSpace('proxied', proxiedTemplateId);
  fx.sharedRunningSpaceId = await newSpace('shared', proxiedTemplateId);
  fx.sharedManualSpaceId = await newSpace('shared-manual', fx.manualTemplateId);
  await share(fx.sharedRunningSpaceId, as.other.userId!);
  await share(fx.sharedManualSpaceId, as.other.userId!);

  await Promise.all(
    [fx.runningSpaceId, fx.sharedRunningSpaceId].map(async (id) => {
      const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id });
      await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
      await h.startAndWait(id);
      await sub.next((e) => {
        const s = e.spaceChanged.space?.services;
        return !!s && s.codeServer && s.desktop && s.ports.length === 3;
      });
      sub.close();
    }),
  );
}, 180_000);

afterAll(async () => {
  await h?.dispose();
  await oidc?.stop();
});

// ---- the matrix ---------------------------------------------------------------------------------

/** `Mutation.updateRole (adds …)` → `Mutation.updateRole`; `WS /x (space stopped)` → `WS /x`. */
const baseOf = (key: string) => key.replace(/ \(.*\)$/, '');

function schemaFields(): string[] {
  return (['Query', 'Mutation', 'Subscription'] as const).flatMap((root) => {
    const type = schema.getType(root);
    return type && isObjectType(type) ? Object.keys(type.getFields()).map((field) => `${root}.${field}`) : [];
  });
}

function routeKeys(entries: RouteEntry[]): string[] {
  const keys: string[] = [];
  for (const route of entries) {
    if (route.name === 'spaces') keys.push(...SPACE_ROUTES);
    else if (route.name === 'space-port-host') keys.push(...PORT_HOST_ROUTES);
    else if (route.path) {
      const path = route.prefix ? `${route.path}*` : route.path;
      if (route.http) keys.push(`HTTP ${path}`);
      if (route.upgrade) keys.push(`WS ${path}`);
    } else keys.push(`${route.name} (a matcher whose routes the matrix does not know)`);
  }
  // What the server does with a request no route takes (server/src/app.ts).
  keys.push('HTTP * (web UI)', 'WS * (no route)');
  return keys;
}

async function outcomes(key: string): Promise<Record<Actor, string>> {
  const call = CALLS[key];
  if (!call) throw new Error(`no call for "${key}": add one to CALLS in this file`);
  const results = await Promise.all(ACTORS.map((actor) => call(actor).catch((err: Error) => `threw: ${err.message}`)));
  return Object.fromEntries(ACTORS.map((actor, i) => [actor, results[i]!])) as Record<Actor, string>;
}

const expected = (row: readonly string[]) => Object.fromEntries(ACTORS.map((actor, i) => [actor, row[i]!])) as Record<Actor, string>;

describe('authorization matrix', () => {
  it('has a rule for every query, mutation and subscription field, and none for a field that is gone', () => {
    const fields = schemaFields();
    expect(fields.filter((f) => !(f in FIELD_RULES)), 'fields without a row in authorization-matrix.rules.ts').toEqual([]);
    expect(Object.keys(FIELD_RULES).filter((key) => !fields.includes(baseOf(key))), 'rows for fields the schema no longer has').toEqual([]);
  });

  it('has a rule for every HTTP and WebSocket route, and none for a route that is gone', () => {
    const routes = routeKeys(h.server.app.routes());
    expect(routes.filter((r) => !(r in ROUTE_RULES)), 'routes without a row in authorization-matrix.rules.ts').toEqual([]);
    expect(Object.keys(ROUTE_RULES).filter((key) => !routes.includes(key) && !routes.includes(baseOf(key))), 'rows for routes the server no longer has').toEqual([]);
  });

  describe('GraphQL fields', () => {
    for (const [key, row] of Object.entries(FIELD_RULES)) {
      it(key, async () => {
        expect(await outcomes(key)).toEqual(expected(row));
      });
    }
  });

  describe('routes', () => {
    for (const [key, row] of Object.entries(ROUTE_RULES)) {
      it(key, async () => {
        expect(await outcomes(key)).toEqual(expected(row));
      });
    }
  });
});
