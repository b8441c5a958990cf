/**
 * `npm run bench [-- <filter>]`: runs every registered benchmark in turn (or those whose name
 * contains the filter) and prints each figure with its baseline, the ratio and the target.
 * Benchmarks are never part of `npm test`.
 */
import type { Bench, BenchResult } from './types.js';

/** Registered benchmarks: name → loader (imported lazily so one bench's imports never slow another). */
const BENCHES: Record<string, () => Promise<Bench>> = {
  'graphql-me': async () => (await import('./graphql-me.js')).benchGraphQLMe,
  'space-lifecycle': async () => (await import('./space-lifecycle.js')).benchSpaceLifecycle,
  'space-fanout': async () => (await import('./space-fanout.js')).benchSpaceFanout,
  terminal: async () => (await import('./terminal.js')).benchTerminal,
  start: async () => (await import('./start.js')).benchStart,
  agents: async () => (await import('./agents.js')).benchAgents,
  ui: async () => (await import('./ui.js')).benchUi,
  scheduler: async () => (await import('./scheduler.js')).benchScheduler,
  'agent-cold-start': async () => (await import('./agent-cold-start.js')).benchAgentColdStart,
  newcomer: async () => (await import('./newcomer.js')).benchNewcomer,
  'swarm-start': async () => (await import('./swarm-start.js')).benchSwarmStart,
  relay: async () => (await import('./relay.js')).benchRelay,
  'agents-replicas': async () => (await import('./agents-replicas.js')).benchAgentsReplicas,
};

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function describeResult(r: BenchResult): string {
  let line = `${r.name}: ${format(r.value)} ${r.unit}`;
  if (r.baseline) {
    const ratio = r.value / r.baseline.value;
    line += `  | ${r.baseline.name}: ${format(r.baseline.value)} ${r.unit}  | ratio ${ratio.toFixed(2)}`;
    if (r.target !== undefined) {
      const met = (r.better ?? 'higher') === 'higher' ? ratio >= r.target : ratio <= r.target;
      line += ` (target ${(r.better ?? 'higher') === 'higher' ? '≥' : '≤'} ${r.target}: ${met ? 'met' : 'NOT met'})`;
    }
  }
  return line;
}

const filter = process.argv[2];
const selected = Object.entries(BENCHES).filter(([name]) => !filter || name.includes(filter));
if (!selected.length) {
  console.error(`No benchmark matches "${filter}". Known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(1);
}

let failed = false;
for (const [name, load] of selected) {
  console.log(`\n== ${name}`);
  try {
    const results = await (await load())();
    for (const result of results) console.log(describeResult(result));
  } catch (err) {
    failed = true;
    console.error(`${name} failed:`, err);
  }
}
process.exit(failed ? 1 : 0);
