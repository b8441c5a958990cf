/**
 * Terminal sessions outlive their sockets: a reconnect replays what was printed while away, two
 * sockets share one shell, a session nobody attaches to ends after KNOT_TERMINAL_DETACH_SECONDS,
 * and a session id is worth nothing to anyone but its own user, in its own space.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TerminalClient } from './terminal-client.js';

const SESSIONS = `query($id: ID!) { space(id: $id) { terminalSessions { id attached expiresAt } } }`;
type Sessions = { space: { terminalSessions: { id: string; attached: number; expiresAt: string | null }[] | null } };

async function processes(h: SpacesHarness, spaceId: string): Promise<string> {
  return (await h.runtime.execCollect(containerOf(spaceId), ['ps', '-o', 'pid,args'])).stdout;
}

describe('terminal sessions', () => {
  let h: SpacesHarness;
  let spaceId: string;
  let otherSpaceId: string;
  let bob: Awaited<ReturnType<typeof createUser>>;
  const terminals: TerminalClient[] = [];
  const open = (id: string, token: string, query = '') => {
    const terminal = TerminalClient.open(h.server.url, id, { token, query });
    terminals.push(terminal);
    return terminal;
  };

  beforeAll(async () => {
    h = await startSpacesHarness({ config: { terminalSessionsPerSpace: 3 } });
    const templateId = (await h.createTemplate({ name: 'busybox' })).id;
    spaceId = (await h.createSpace({ templateId, name: 'shell', shell: 'sh' })).id;
    otherSpaceId = (await h.createSpace({ templateId, name: 'other', shell: 'sh' })).id;
    bob = await createUser(h.server, h.admin.client, 'bob');
    await Promise.all([h.startAndWait(spaceId), h.startAndWait(otherSpaceId)]);
  });
  afterAll(async () => {
    for (const t of terminals) t.close();
    await h?.dispose();
  });

  it('names the session first, and a reconnect after the socket is cut replays what was printed while away, then continues', async () => {
    const first = open(spaceId, h.admin.token);
    const sessionId = await first.sessionId();
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await first.run('export KEPT=still-$((20 + 1))')).toBe('');
    const marker = `/tmp/away-${Date.now()}`;
    // Printed a moment after the socket is gone; the file says when it has been.
    await first.type(`sleep 1; echo "printed-$((2 * 3))-while-away"; touch ${marker}\n`);
    first.socket.terminate();
    await first.closed;
    await waitFor(async () => (await h.exec(spaceId, ['ls', '/tmp'])).includes(marker.slice(5)), { what: 'the output to be printed' });

    const second = open(spaceId, h.admin.token, `?session=${sessionId}`);
    expect(await second.sessionId()).toBe(sessionId);
    await second.waitForOutput(/printed-6-while-away/);
    // Everything the first socket saw comes back too (a new tab starts from what is held).
    expect(second.text).toContain('export KEPT');
    // The same shell, not a new one.
    expect(await second.run('echo $KEPT')).toBe('still-21\n');

    // A client that says how far it got is sent only the rest.
    const position = second.position;
    second.close();
    await second.closed;
    const third = open(spaceId, h.admin.token, `?session=${sessionId}&from=${position}`);
    await third.sessionId();
    expect(third.session!.position).toBe(position);
    expect(await third.run('echo after')).toBe('after\n');
    expect(third.text).not.toContain('KEPT');
  });

  it('shows one session on two sockets at once: both see the output, either may type', async () => {
    const a = open(spaceId, h.admin.token);
    const sessionId = await a.sessionId();
    const b = open(spaceId, h.admin.token, `?session=${sessionId}`);
    await b.sessionId();
    const from = b.output.length;
    expect(await a.run('echo from-a-$((1 + 1))')).toBe('from-a-2\n');
    await b.waitForOutput(/from-a-2/, { from });
    expect(await b.run('echo from-b-$((2 + 1))')).toBe('from-b-3\n');
    await a.waitForOutput(/from-b-3/);

    const listed = await h.admin.client.data<Sessions>(SESSIONS, { id: spaceId });
    expect(listed.space.terminalSessions).toContainEqual({ id: sessionId, attached: 2, expiresAt: null });
    // One tab closing leaves the other working.
    a.close();
    await a.closed;
    expect(await b.run('echo still-$((3 + 1))')).toBe('still-4\n');
  });

  it('refuses a session id from another user, from another space, or one that never was, with the same answer', async () => {
    const mine = open(spaceId, h.admin.token);
    const sessionId = await mine.sessionId();
    // Bob cannot reach the admin's space at all; in his own space the admin's id is unknown.
    const bobsSpaceId = (await h.createSpace({ templateId: (await h.createTemplate({ name: 'bobs' })).id, name: 'bobs' }, bob.client)).id;
    await h.startAndWait(bobsSpaceId, bob.client);
    const bobs = open(bobsSpaceId, bob.token, `?session=${sessionId}`);
    expect(await bobs.closed).toEqual({ code: 4410, reason: 'That terminal session has ended.' });
    const intoAdmins = open(spaceId, bob.token, `?session=${sessionId}`);
    expect((await intoAdmins.closed).code).toBe(4404);
    const otherSpace = open(otherSpaceId, h.admin.token, `?session=${sessionId}`);
    expect(await otherSpace.closed).toEqual({ code: 4410, reason: 'That terminal session has ended.' });
    const made_up = open(spaceId, h.admin.token, `?session=${'A'.repeat(24)}`);
    expect((await made_up.closed).code).toBe(4410);
    // Nor can Bob list or end it through the API.
    const listed = await bob.client.request(SESSIONS, { id: spaceId });
    expect(listed.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const ended = await bob.client.request(`mutation($s: ID!, $t: ID!) { closeTerminalSession(spaceId: $s, sessionId: $t) }`, { s: bobsSpaceId, t: sessionId });
    expect(ended.data).toEqual({ closeTerminalSession: false });
    // The session is untouched by all of that.
    expect(await mine.run('echo intact')).toBe('intact\n');
  });

  it('holds a bounded number of sessions per user and space: the oldest detached one makes room, else a new one is refused', async () => {
    const held = [open(otherSpaceId, h.admin.token), open(otherSpaceId, h.admin.token), open(otherSpaceId, h.admin.token)];
    const ids = await Promise.all(held.map((t) => t.sessionId()));
    const refused = open(otherSpaceId, h.admin.token);
    expect(await refused.closed).toEqual({ code: 4429, reason: 'You have 3 terminals open in "other": close one first.' });
    held[1]!.close();
    await held[1]!.closed;
    const fourth = open(otherSpaceId, h.admin.token);
    expect(await fourth.run('echo room')).toBe('room\n');
    const gone = open(otherSpaceId, h.admin.token, `?session=${ids[1]}`);
    expect((await gone.closed).code).toBe(4410);
    // The attached ones were left alone.
    expect(await held[0]!.run('echo kept')).toBe('kept\n');
  });
});

describe('a detached terminal session', () => {
  let h: SpacesHarness;
  let spaceId: string;

  beforeAll(async () => {
    h = await startSpacesHarness({ config: { terminalDetachSeconds: 1 } });
    const templateId = (await h.createTemplate({ name: 'busybox' })).id;
    spaceId = (await h.createSpace({ templateId, name: 'expiring', shell: 'sh' })).id;
    await h.startAndWait(spaceId);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('ends with its shell after KNOT_TERMINAL_DETACH_SECONDS with no socket attached', async () => {
    const terminal = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token });
    const sessionId = await terminal.sessionId();
    await terminal.type('sleep 4343\n');
    await waitFor(async () => (await processes(h, spaceId)).includes('sleep 4343'), { what: 'sleep to run' });
    terminal.close();
    await terminal.closed;
    await waitFor(async () => !(await processes(h, spaceId)).includes('sleep 4343'), { what: 'the detached shell to be hung up', timeout: 20_000 });
    const { space } = await h.admin.client.data<Sessions>(SESSIONS, { id: spaceId });
    expect(space.terminalSessions).toEqual([]);
    const late = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token, query: `?session=${sessionId}` });
    expect(await late.closed).toEqual({ code: 4410, reason: 'That terminal session has ended.' });
  });
});
