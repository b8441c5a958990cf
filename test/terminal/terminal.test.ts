import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TerminalClient } from './terminal-client.js';

/** The processes in a space's container, as `ps` lists them. */
async function processes(h: SpacesHarness, spaceId: string): Promise<string> {
  return (await h.runtime.execCollect(containerOf(spaceId), ['ps', '-o', 'pid,args'])).stdout;
}

describe('web terminal on a Docker space', () => {
  let h: SpacesHarness;
  let spaceId: string;
  let stoppedId: string;
  let bob: Awaited<ReturnType<typeof createUser>>;
  let bobSpaceId: string;
  const terminals: TerminalClient[] = [];
  const open = (id: string, options: Parameters<typeof TerminalClient.open>[2] = {}) => {
    const terminal = TerminalClient.open(h.server.url, id, options);
    terminals.push(terminal);
    return terminal;
  };

  beforeAll(async () => {
    h = await startSpacesHarness();
    const templateId = (await h.createTemplate({ name: 'busybox' })).id;
    // bash is not in the busybox image: the terminal falls back to sh.
    spaceId = (await h.createSpace({ templateId, name: 'shell', shell: 'bash' })).id;
    stoppedId = (await h.createSpace({ templateId, name: 'stopped' })).id;
    bob = await createUser(h.server, h.admin.client, 'bob');
    bobSpaceId = (await h.createSpace({ templateId, name: 'bobs' }, bob.client)).id;
    await Promise.all([h.startAndWait(spaceId), h.startAndWait(bobSpaceId, bob.client)]);
  });
  afterAll(async () => {
    for (const t of terminals) t.close();
    await h?.dispose();
  });

  it('runs a command in a login shell (sh when the space shell is missing) and returns its output', async () => {
    const terminal = open(spaceId, { token: h.admin.token });
    expect(await terminal.run('echo knot-$((6 * 7))')).toBe('knot-42\n');
    expect(await terminal.run('echo $0; echo $TERM')).toBe('sh\nxterm-256color\n');
  });

  it('starts at the size in the URL and follows resize messages', async () => {
    const terminal = open(spaceId, { token: h.admin.token, query: '?cols=120&rows=40' });
    expect(await terminal.run('stty size')).toBe('40 120\n');
    await terminal.resize(100, 30);
    // The resize is applied asynchronously by Docker; a person would see it on the next prompt.
    await waitFor(async () => (await terminal.run('stty size')) === '30 100\n', { what: 'the new size' });
  });

  it('is binary-safe both ways', async () => {
    const terminal = open(spaceId, { token: h.admin.token });
    await terminal.run('stty raw -echo');
    const from = terminal.output.length;
    // Bytes that are not UTF-8 come back exactly, and typed ones reach the process unchanged.
    await terminal.type('printf "\\377\\376\\000\\001"; od -An -tx1 -N4\n');
    await terminal.type(Buffer.from([0xc3, 0x28, 0xff, 0x0a]));
    await terminal.waitForOutput(/c3 28 ff 0a/, { from });
    expect(terminal.output.subarray(from).includes(Buffer.from([0xff, 0xfe, 0x00, 0x01]))).toBe(true);
  });

  it('keeps the shell when the socket closes, and ends it and what it started when the session is closed', async () => {
    const terminal = open(spaceId, { token: h.admin.token });
    const pid = (await terminal.run('echo $$')).trim();
    const sessionId = await terminal.sessionId();
    await terminal.type('sleep 4242\n');
    await waitFor(async () => (await processes(h, spaceId)).includes('sleep 4242'), { what: 'sleep to run' });
    terminal.close();
    await terminal.closed;
    // A closed tab is not a closed shell: it waits to be reattached.
    const { space } = await h.admin.client.data<{ space: { terminalSessions: { id: string; attached: number }[] } }>(
      `query($id: ID!) { space(id: $id) { terminalSessions { id attached } } }`,
      { id: spaceId },
    );
    expect(space.terminalSessions).toContainEqual({ id: sessionId, attached: 0 });
    expect(await processes(h, spaceId)).toContain('sleep 4242');

    const closed = await h.admin.client.data<{ closeTerminalSession: boolean }>(
      `mutation($s: ID!, $t: ID!) { closeTerminalSession(spaceId: $s, sessionId: $t) }`,
      { s: spaceId, t: sessionId },
    );
    expect(closed.closeTerminalSession).toBe(true);
    await waitFor(
      async () => {
        const ps = await processes(h, spaceId);
        return !ps.includes('sleep 4242') && !new RegExp(`^\\s*${pid}\\s`, 'm').test(ps);
      },
      { what: 'the shell and its sleep to end' },
    );
  });

  it('closes with the exit code when the shell exits', async () => {
    const terminal = open(spaceId, { token: h.admin.token });
    await terminal.type('exit 3\n');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'The shell exited with code 3.' });
  });

  it('works with the session cookie from our own origin, and not from another site', async () => {
    const session = await h.server.anonymous.login('admin', 'correct-horse');
    const terminal = open(spaceId, { cookie: session.cookie!, origin: h.server.url });
    expect(await terminal.run('echo cookie-ok')).toBe('cookie-ok\n');
    const foreign = open(spaceId, { cookie: session.cookie!, origin: 'https://evil.example.com' });
    expect(await foreign.closed).toEqual({ code: 4401, reason: 'You need to log in first.' });
  });

  it('refuses anonymous callers, bad tokens, other users and admins, and a stopped space, with a log line', async () => {
    const log = vi.spyOn(h.server.app.services.log, 'info');
    const anonymous = open(spaceId);
    expect(await anonymous.closed).toEqual({ code: 4401, reason: 'You need to log in first.' });
    const badToken = open(spaceId, { token: 'knot_not-a-token' });
    expect((await badToken.closed).code).toBe(4401);
    // Bob's space is not the admin's to reach into, MANAGE_SPACES or not; nor is the admin's Bob's.
    const admin = open(bobSpaceId, { token: h.admin.token });
    expect(await admin.closed).toEqual({ code: 4404, reason: 'That space was not found.' });
    const other = open(spaceId, { token: bob.token });
    expect(await other.closed).toEqual({ code: 4404, reason: 'That space was not found.' });
    const stopped = open(stoppedId, { token: h.admin.token });
    expect(await stopped.closed).toEqual({ code: 4409, reason: 'The space "stopped" is stopped; start it first.' });
    const unknown = open('not-a-space', { token: h.admin.token });
    expect((await unknown.closed).code).toBe(4404);
    const refusals = log.mock.calls.filter((call) => call[1] === 'refused terminal');
    expect(refusals.map((call) => (call[0] as { status: number }).status)).toEqual([401, 401, 404, 404, 409, 404]);
    log.mockRestore();
    // Nothing was started in either space by the refused attempts.
    expect(await processes(h, bobSpaceId)).not.toMatch(/sh -l/);
  });

  it('closes a terminal when the token that opened it is revoked', async () => {
    const login = await h.server.anonymous.login('admin', 'correct-horse');
    const token = await login.createToken('short-lived');
    const terminal = open(spaceId, { token });
    expect(await terminal.run('echo before')).toBe('before\n');
    const tokens = await login.data<{ apiTokens: { id: string; name: string }[] }>(`{ apiTokens { id name } }`);
    await login.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: tokens.apiTokens.find((t) => t.name === 'short-lived')!.id });
    expect(await terminal.closed).toEqual({ code: 4401, reason: 'Your login has ended.' });
  });

  it('refuses a terminal when the template has none', async () => {
    const templateId = (await h.createTemplate({ name: 'no terminal', withTerminal: false })).id;
    const id = (await h.createSpace({ templateId, name: 'headless' })).id;
    await h.startAndWait(id);
    expect(await open(id, { token: h.admin.token }).closed).toEqual({ code: 4404, reason: 'The template of "headless" has no terminal.' });
  });

  it('refuses a bad size, a malformed control message and a huge frame without harming the server', async () => {
    const badSize = open(spaceId, { token: h.admin.token, query: '?cols=0&rows=99999' });
    expect((await badSize.closed).code).toBe(4400);
    const malformed = open(spaceId, { token: h.admin.token });
    await malformed.run('true');
    malformed.socket.send('{"type":"resize","cols":"wide"}');
    expect((await malformed.closed).code).toBe(4400);
    const huge = open(spaceId, { token: h.admin.token });
    await huge.run('true');
    await huge.type(Buffer.alloc(2 * 1024 * 1024, 0x61));
    expect((await huge.closed).code).toBe(1009);
    // The server still serves terminals.
    expect(await open(spaceId, { token: h.admin.token }).run('echo still-here')).toBe('still-here\n');
  });
});
