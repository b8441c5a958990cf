import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentBundle, WATCH_SERVICES, type ServicesChange } from '../agent/fixture.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { httpGet, proxiedJob } from '../proxy/fixture.js';
import { TerminalClient } from '../terminal/terminal-client.js';
import { SPACES_CHANGED, startSpacesHarness, type SpaceChange, type SpacesHarness } from './fixture.js';

/**
 * Sharing a space, end to end on a real server, Docker and sockets: the user it is shared with
 * sees it with its owner, follows it live and reaches in (terminal, a web port, a forward), and
 * loses all of it at once when it is unshared; a third user never sees it.
 */
const DOMAIN = 'knot.test';
const SHARE = `mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id sharedWith { id username } } }`;
const UNSHARE = `mutation($id: ID!, $u: ID!) { unshareSpace(id: $id, userId: $u) }`;
const SHARED_WITH = `query($id: ID!) { space(id: $id) { sharedWith { username } } }`;
const MY_SPACES = `{ spaces { id name owner { username } } }`;

type User = { client: GraphQLTestClient; userId: string; token: string };

describe('sharing a space', () => {
  let h: SpacesHarness;
  let alice: User;
  let bob: User;
  let carol: User;
  let spaceId: string;

  beforeAll(async () => {
    await agentBundle();
    h = await startSpacesHarness({ host: '0.0.0.0', config: { wildcardDomain: `*.${DOMAIN}` } });
    [alice, bob, carol] = (await Promise.all(['alice', 'bob', 'carol'].map((name) => createUser(h.server, h.admin.client, name)))) as [User, User, User];
    const template = await h.createTemplate({ name: 'proxied', job: proxiedJob(), computeUnits: 1 });
    spaceId = (await h.createSpace({ templateId: template.id, name: 'web' }, alice.client)).id;
    const sub = alice.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    await h.startAndWait(spaceId, alice.client);
    await sub.next((e) => (e.spaceChanged.space?.services?.ports.length ?? 0) === 3);
    sub.close();
  }, 120_000);

  afterAll(async () => {
    await h?.dispose();
  });

  const auditActions = async () =>
    (await h.admin.client.data<{ auditLog: { entries: { action: string; actorName: string }[] } }>(`{ auditLog(first: 500) { entries { action actorName } } }`)).auditLog.entries;

  it('shows the space in the shared user\'s list with its owner, live, and lets them open its terminal, a web port and a forward', async () => {
    const bobList = bob.client.subscribe<{ spacesChanged: SpaceChange }>(SPACES_CHANGED, {});
    expect((await bob.client.data<{ spaces: unknown[] }>(MY_SPACES)).spaces).toEqual([]);

    const shared = await alice.client.data<{ shareSpace: { sharedWith: { username: string }[] } }>(SHARE, { id: spaceId, u: bob.userId });
    expect(shared.shareSpace.sharedWith.map((u) => u.username)).toEqual(['bob']);

    // Live: bob's list hears of it, with its owner.
    const arrived = await bobList.next((e) => e.spacesChanged.spaceId === spaceId);
    expect(arrived.spacesChanged.kind).toBe('SHARED');
    expect(arrived.spacesChanged.space?.owner.username).toBe('alice');
    bobList.close();
    expect((await bob.client.data<{ spaces: { id: string; owner: { username: string } }[] }>(MY_SPACES)).spaces).toEqual([
      { id: spaceId, name: 'web', owner: { username: 'alice' } },
    ]);
    // Whoever sees it sees whom it is shared with.
    expect((await bob.client.data<{ space: { sharedWith: { username: string }[] } }>(SHARED_WITH, { id: spaceId })).space.sharedWith).toEqual([{ username: 'bob' }]);

    // The port host keeps the owner's name.
    const seen = await bob.client.data<{ space: { services: { ports: { port: number; url: string | null }[] } } }>(
      `query($id: ID!) { space(id: $id) { services { ports { port url } } } }`,
      { id: spaceId },
    );
    expect(seen.space.services.ports.find((p) => p.port === 8080)?.url).toContain(`alice--web--8080.${DOMAIN}`);

    const terminal = TerminalClient.open(h.server.url, spaceId, { token: bob.token });
    try {
      expect((await terminal.run('echo shared-$((6*7))')).trim()).toBe('shared-42');
    } finally {
      terminal.close();
    }
    const page = await httpGet(`${h.server.url}/spaces/${spaceId}/ports/8080/page`, { authorization: `Bearer ${bob.token}` });
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body).url).toBe('/page');
    const byHost = await httpGet(`${h.server.url}/page`, { host: `alice--web--8080.${DOMAIN}`, authorization: `Bearer ${bob.token}` });
    expect(byHost.status).toBe(200);
    const forward = await openSocket(`/spaces/${spaceId}/forward/9000`, bob.token);
    forward.send(Buffer.from('ping over the forward'));
    expect(await nextMessage(forward)).toBe('ping over the forward');
    forward.close();

    expect((await auditActions()).some((e) => e.action === 'shareSpace' && e.actorName === 'alice')).toBe(true);
  });

  it('gives a third user NOT_FOUND everywhere, and the shared user no edit, delete, share or transfer', async () => {
    expect(await carol.client.errorCode(`query($id: ID!) { space(id: $id) { id } }`, { id: spaceId })).toBe('NOT_FOUND');
    expect(await carol.client.errorCode(SHARE, { id: spaceId, u: carol.userId })).toBe('NOT_FOUND');
    expect(await carol.client.errorCode(`mutation($id: ID!) { stopSpace(id: $id) { id } }`, { id: spaceId })).toBe('NOT_FOUND');
    expect((await carol.client.data<{ spaces: unknown[] }>(MY_SPACES)).spaces).toEqual([]);
    const refused = TerminalClient.open(h.server.url, spaceId, { token: carol.token });
    expect((await refused.closed).code).toBe(4404);
    expect((await httpGet(`${h.server.url}/spaces/${spaceId}/ports/8080/page`, { authorization: `Bearer ${carol.token}` })).status).toBe(404);

    expect(await bob.client.errorCode(`mutation($id: ID!) { updateSpace(id: $id, input: { name: "mine" }) { id } }`, { id: spaceId })).toBe('FORBIDDEN');
    expect(await bob.client.errorCode(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: spaceId })).toBe('FORBIDDEN');
    expect(await bob.client.errorCode(SHARE, { id: spaceId, u: carol.userId })).toBe('FORBIDDEN');
    expect(await bob.client.errorCode(`mutation($id: ID!, $u: ID!) { transferSpace(id: $id, userId: $u) { id } }`, { id: spaceId, u: bob.userId })).toBe('FORBIDDEN');
    expect(await bob.client.errorCode(UNSHARE, { id: spaceId, u: carol.userId })).toBe('FORBIDDEN');
    expect((await h.space(spaceId, alice.client)).name).toBe('web');
  });

  it('refuses sharing with oneself or an unknown user with a coded error, and changes nothing', async () => {
    const before = (await auditActions()).length;
    const sharing = async (u: string) => (await alice.client.request(SHARE, { id: spaceId, u })).errors?.[0]?.extensions;
    expect(await sharing(alice.userId)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
    expect(await sharing(randomUUID())).toMatchObject({ code: 'NOT_FOUND', field: 'userId' });
    expect(await sharing('not-an-id')).toMatchObject({ code: 'NOT_FOUND', field: 'userId' });
    expect((await alice.client.data<{ space: { sharedWith: { username: string }[] } }>(SHARED_WITH, { id: spaceId })).space.sharedWith).toEqual([{ username: 'bob' }]);
    expect((await auditActions()).length).toBe(before);
  });

  it('cuts the shared user\'s open terminal (shell and all), proxied WebSocket and forward at once when unshared, and takes the space from their list', async () => {
    const terminal = TerminalClient.open(h.server.url, spaceId, { token: bob.token });
    expect((await terminal.run('echo before-$((1+1))')).trim()).toBe('before-2');
    const sessionId = await terminal.sessionId();
    // Something running in bob's shell, to see that the shell itself ends (not only the socket).
    await terminal.type('sleep 4242\n');
    const sleeping = async () => (await h.exec(spaceId, ['sh', '-c', "grep -l '424[2]' /proc/[0-9]*/cmdline 2>/dev/null | wc -l"])).trim() !== '0';
    await waitFor(sleeping, { what: "bob's sleep to run" });
    const proxied = await openSocket(`/spaces/${spaceId}/ports/8080/live`, bob.token);
    expect(await nextMessage(proxied)).toContain('hello over websocket');
    const forward = await openSocket(`/spaces/${spaceId}/forward/9000`, bob.token);
    // The owner's own terminal is not touched.
    const owners = TerminalClient.open(h.server.url, spaceId, { token: alice.token });
    expect((await owners.run('echo owner-$((2+2))')).trim()).toBe('owner-4');
    const bobList = bob.client.subscribe<{ spacesChanged: SpaceChange }>(SPACES_CHANGED, {});
    await bobList.next((e) => e.spacesChanged.kind === 'SNAPSHOT' && e.spacesChanged.spaceId === spaceId);

    const asked = Date.now();
    expect((await alice.client.data<{ unshareSpace: boolean }>(UNSHARE, { id: spaceId, u: bob.userId })).unshareSpace).toBe(true);
    expect((await terminal.closed).code).toBe(4404);
    await Promise.all([closedSocket(proxied), closedSocket(forward)]);
    await waitFor(async () => !(await sleeping()), { timeout: 5_000, what: "bob's shell and its sleep to end" });
    // "At once": an event away, not a poll or a timeout.
    expect(Date.now() - asked).toBeLessThan(5_000);

    const gone = await bobList.next((e) => e.spacesChanged.spaceId === spaceId && e.spacesChanged.kind === 'UNSHARED');
    expect(gone.spacesChanged.space).toBeNull();
    bobList.close();
    expect((await bob.client.data<{ spaces: unknown[] }>(MY_SPACES)).spaces).toEqual([]);
    expect(await bob.client.errorCode(`query($id: ID!) { space(id: $id) { id } }`, { id: spaceId })).toBe('NOT_FOUND');
    // The shell went with the share: its session cannot be reattached, and a new terminal is refused.
    const reattach = TerminalClient.open(h.server.url, spaceId, { token: bob.token, query: `?session=${sessionId}` });
    expect((await reattach.closed).code).toBe(4404);
    expect((await httpGet(`${h.server.url}/spaces/${spaceId}/ports/8080/page`, { authorization: `Bearer ${bob.token}` })).status).toBe(404);

    expect((await owners.run('echo still-$((3+3))')).trim()).toBe('still-6');
    owners.close();
    expect((await auditActions()).some((e) => e.action === 'unshareSpace' && e.actorName === 'alice')).toBe(true);
  });

  it('lets the shared user stop and start the space, counted against the owner\'s quota, not theirs', async () => {
    // Bob may not run anything of his own; the space is alice's, so her (unlimited) quota applies.
    const group = await h.admin.client.data<{ createGroup: { id: string } }>(`mutation { createGroup(name: "no compute", computeUnits: 0) { id } }`);
    await h.admin.client.data(`mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`, { id: bob.userId, g: [group.createGroup.id] });
    await alice.client.data(SHARE, { id: spaceId, u: bob.userId });

    expect((await h.stopAndWait(spaceId, bob.client)).status).toBe('STOPPED');
    expect((await h.startAndWait(spaceId, bob.client)).status).toBe('RUNNING');
    const usage = `{ me { usage { computeUnits } } }`;
    expect((await alice.client.data<{ me: { usage: { computeUnits: number } } }>(usage)).me.usage.computeUnits).toBe(1);
    expect((await bob.client.data<{ me: { usage: { computeUnits: number } } }>(usage)).me.usage.computeUnits).toBe(0);
    const entries = await auditActions();
    expect(entries.some((e) => e.action === 'startSpace' && e.actorName === 'bob')).toBe(true);

    // A user it is shared with may leave it.
    expect((await bob.client.data<{ unshareSpace: boolean }>(UNSHARE, { id: spaceId, u: bob.userId })).unshareSpace).toBe(true);
    expect(await bob.client.errorCode(`query($id: ID!) { space(id: $id) { id } }`, { id: spaceId })).toBe('NOT_FOUND');
  });

  function openSocket(path: string, token: string): Promise<WebSocket> {
    const socket = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}${path}`, { headers: { authorization: `Bearer ${token}` } });
    socket.on('error', () => {});
    // A server may speak first, in the same packet as the handshake: keep every message from the start.
    const messages: string[] = [];
    received.set(socket, messages);
    socket.on('message', (data: Buffer) => messages.push(data.toString()));
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(socket));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`refused with HTTP ${res.statusCode}`)));
      socket.once('close', (code) => reject(new Error(`closed with ${code}`)));
    });
  }
});

const received = new WeakMap<WebSocket, string[]>();

/** The first message the socket got (and takes it off the list). */
async function nextMessage(socket: WebSocket): Promise<string> {
  const messages = received.get(socket)!;
  await waitFor(() => messages.length > 0 || socket.readyState === WebSocket.CLOSED, { timeout: 15_000, what: 'a message' });
  if (!messages.length) throw new Error('the socket closed before a message');
  return messages.shift()!;
}

function closedSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return waitFor(() => socket.readyState === WebSocket.CLOSED, { timeout: 10_000, what: 'the socket to close' }).then(() => {});
}
