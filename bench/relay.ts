/**
 * A keystroke's echo through a relaying replica against the same through the replica its agent
 * is connected to. Two replicas on one Postgres (both in this process), a manual space whose real
 * agent (a host process) is connected to replica B; letters are typed one at a time into the shell
 * through A (relayed to B over /internal/relay) and through B (direct), each timed to the pty's
 * echo, rounds alternating. The target: relayed p50 at most 1.3× direct.
 */
import WebSocket from 'ws';
import { CREATE_AGENT_TOKEN, HostAgent, agentBundle } from '../test/agent/fixture.js';
import { startTestServer } from '../test/helpers/server.js';
import { waitFor } from '../test/helpers/wait.js';
import { startSpacesHarness } from '../test/spaces/fixture.js';
import { percentile } from './stats.js';
import type { BenchResult } from './types.js';

const KEYSTROKES = Number(process.env.BENCH_KEYSTROKES ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * One round: a terminal socket on `baseUrl`, then KEYSTROKES letters typed one at a time, each timed
 * from sending it to seeing the pty's echo of it come back (the line is cleared every 50 keys).
 */
async function keystrokes(baseUrl: string, spaceId: string, token: string): Promise<number[]> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/spaces/${spaceId}/terminal?cols=200&rows=50`, { headers: { authorization: `Bearer ${token}` } });
  let waiting: { byte: number; resolve: () => void } | null = null;
  let seen = '';
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    seen = (seen + data.toString('latin1')).slice(-256);
    if (waiting && data.includes(waiting.byte)) waiting.resolve();
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const type = (byte: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo of ${String.fromCharCode(byte)}; last output ${JSON.stringify(seen)}`)), 10_000);
      waiting = { byte, resolve: () => (clearTimeout(timer), resolve()) };
      ws.send(Buffer.from([byte]), { binary: true });
    });
  // The prompt, then one untimed key so the shell is reading.
  await waitFor(() => seen.length > 0, { what: 'the shell prompt' });
  await type(0x2e);
  const samples: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    if (i % 50 === 49) ws.send(Buffer.from([0x15]), { binary: true });
    const started = process.hrtime.bigint();
    await type(0x61 + (i % 26));
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  ws.close();
  return samples;
}


export async function benchRelay(): Promise<BenchResult[]> {
  const a = await startSpacesHarness();
  const b = await startTestServer({ databaseUrl: a.server.databaseUrl, keepDatabase: true });
  let agent: HostAgent | undefined;
  try {
    const templateId = (await a.createTemplate({ name: 'bench laptop', platform: 'MANUAL', job: '', withTerminal: true })).id;
    const spaceId = (await a.createSpace({ templateId, name: 'bench-relay', shell: 'sh' })).id;
    const { createAgentToken } = await a.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: spaceId });
    agent = new HostAgent(await agentBundle(), { KNOT_SERVER: b.url, KNOT_SPACE_ID: spaceId, KNOT_AGENT_TOKEN: createAgentToken.token });
    await waitFor(() => b.app.services.agents.isConnected(spaceId), { what: 'the agent on replica B' });
    await waitFor(async () => (await a.space(spaceId)).status === 'RUNNING', { what: 'the manual space running' });

    const relayed: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      direct.push(...(await keystrokes(b.url, spaceId, a.admin.token)));
      relayed.push(...(await keystrokes(a.server.url, spaceId, a.admin.token)));
    }
    console.log(`  ${relayed.length} keystrokes each way, ${ROUNDS} alternating rounds`);
    return [
      {
        name: 'terminal keystroke→echo p50 through a relaying replica',
        value: percentile(relayed, 50),
        unit: 'ms',
        baseline: { name: 'through the replica holding the agent', value: percentile(direct, 50) },
        better: 'lower',
        target: 1.3,
      },
      {
        name: 'terminal keystroke→echo p99 through a relaying replica',
        value: percentile(relayed, 99),
        unit: 'ms',
        baseline: { name: 'through the replica holding the agent', value: percentile(direct, 99) },
        better: 'lower',
      },
    ];
  } finally {
    await agent?.stop();
    await b.stop();
    await a.dispose();
  }
}
