import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_AGENT_TOKEN, HostAgent, WATCH_SERVICES, agentBundle, type ServicesChange } from '../agent/fixture.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TerminalClient } from './terminal-client.js';

/** Whether a process whose command line contains `text` runs on this machine (where the manual space's agent runs). */
function running(text: string): boolean {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((line) => line.includes(text));
}

/** A manual space has no Docker to exec into: its terminal is a pty the agent opens. */
describe('web terminal on a manual space', () => {
  let h: SpacesHarness;
  let agent: HostAgent;
  let spaceId: string;
  const terminals: TerminalClient[] = [];

  beforeAll(async () => {
    const bundle = await agentBundle();
    h = await startSpacesHarness();
    const templateId = (await h.createTemplate({ name: 'laptop', platform: 'MANUAL', job: '', withTerminal: true })).id;
    spaceId = (await h.createSpace({ templateId, name: 'laptop', shell: 'sh' })).id;
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: spaceId });
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    agent = new HostAgent(bundle, { KNOT_SERVER: h.server.url, KNOT_SPACE_ID: spaceId, KNOT_AGENT_TOKEN: createAgentToken.token });
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.terminal);
    sub.close();
  });
  afterAll(async () => {
    for (const t of terminals) t.close();
    await agent?.stop();
    await h?.dispose();
  });

  it('runs a command through the agent, follows resizes, keeps the shell across a reconnect, and ends it when the session is closed', async () => {
    const terminal = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token, query: '?cols=90&rows=20' });
    terminals.push(terminal);
    expect(await terminal.run('echo manual-$((40 + 2))')).toBe('manual-42\n');
    expect(await terminal.run('stty size')).toBe('20 90\n');
    await terminal.resize(132, 43);
    await waitFor(async () => (await terminal.run('stty size')) === '43 132\n', { what: 'the new size' });

    const marker = `${4000 + Math.floor(Math.random() * 999)}.5`;
    await terminal.type(`sleep ${marker}\n`);
    await waitFor(() => running(`sleep ${marker}`), { what: 'sleep to run' });
    const sessionId = await terminal.sessionId();
    terminal.close();
    await terminal.closed;
    // The socket went away, the shell did not: a reattached socket gets the sleep's output when it ends.
    expect(running(`sleep ${marker}`)).toBe(true);
    const again = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token, query: `?session=${sessionId}` });
    terminals.push(again);
    await again.type('\x03');
    expect(await again.run('echo back-$((1 + 1))')).toBe('back-2\n');
    expect(running(`sleep ${marker}`)).toBe(false);

    await again.type(`sleep ${marker}\n`);
    await waitFor(() => running(`sleep ${marker}`), { what: 'sleep to run again' });
    await h.admin.client.data(`mutation($s: ID!, $t: ID!) { closeTerminalSession(spaceId: $s, sessionId: $t) }`, { s: spaceId, t: sessionId });
    expect((await again.closed).code).toBe(1000);
    await waitFor(() => !running(`sleep ${marker}`), { what: 'the shell and its sleep to end' });
  });
});
