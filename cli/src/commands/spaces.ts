import type { KnotApi } from '../api.js';
import { countdown, stoppedBecause } from '../auto-stop.js';
import { CliError } from '../errors.js';
import { KEEP_SPACE_RUNNING, RESTART_SPACE, SPACE_CHANGED, SPACES_CHANGED, START_SPACE, STOP_SPACE, type Space, type SpaceChange, type SpaceStatus } from '../documents.js';
import { findSpace, listSpaces } from '../spaces.js';

/** Plain columns, padded to the longest value, for people; `--json` is for scripts. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export async function listCommand(api: KnotApi, options: { json?: boolean }) {
  const spaces = await listSpaces(api);
  if (options.json) {
    console.log(JSON.stringify(spaces.map(summary), null, 2));
    return;
  }
  if (!spaces.length) {
    console.log('You have no spaces yet.');
    return;
  }
  const rows = [['NAME', 'STATUS', 'TEMPLATE', 'PORTS', 'NOTE']];
  for (const s of spaces) {
    const ports = s.services.ports.map((p) => `${p.port}/${p.protocol.toLowerCase()}`).join(',') || '-';
    const note = s.error ?? (s.updateAvailable ? 'update available' : '');
    rows.push([s.name, s.status, s.template.name, ports, note]);
  }
  console.log(table(rows));
}

function summary(s: Space) {
  return {
    id: s.id,
    name: s.name,
    altNames: s.altNames,
    status: s.status,
    error: s.error,
    updateAvailable: s.updateAvailable,
    template: s.template.name,
    ports: s.services.ports,
    ssh: s.services.ssh,
  };
}

type Verb = 'start' | 'stop' | 'restart';
const MUTATIONS = { start: START_SPACE, stop: STOP_SPACE, restart: RESTART_SPACE } as const;
const TRANSITIONAL: SpaceStatus[] = ['STARTING', 'STOPPING'];

/**
 * start/stop/restart. With --wait it follows spaceChanged (subscribed before the mutation, so no
 * event is missed) until the space settles: RUNNING (or STOPPED for stop), or FAILED with its error.
 */
export async function actionCommand(api: KnotApi, verb: Verb, name: string, options: { wait?: boolean }) {
  const space = await findSpace(api, name);
  const mutate = () =>
    api.request(MUTATIONS[verb], { id: space.id });
  if (!options.wait) {
    const result = await mutate();
    console.log(`${space.name}: ${result.space.status}`);
    return;
  }

  const target: SpaceStatus = verb === 'stop' ? 'STOPPED' : 'RUNNING';
  let snapshot!: () => void;
  const subscribed = new Promise<void>((resolve) => (snapshot = resolve));
  let moving = false;
  let last: SpaceStatus | undefined;
  let failure: CliError | undefined;
  const settled = api.subscribe(SPACE_CHANGED, { id: space.id }, ({ spaceChanged: change }, stop) => {
    if (change.kind === 'SNAPSHOT') return snapshot();
    const now = change.space;
    if (!now) {
      failure = new CliError(`${space.name} was deleted.`);
      return stop();
    }
    if (now.status !== last) console.log(`${now.name}: ${now.status}`);
    last = now.status;
    // Events arrive in order, so only a status reached after this action's own transition counts.
    if (TRANSITIONAL.includes(now.status)) moving = true;
    if (!moving) return;
    if (now.status === 'FAILED') {
      failure = new CliError(`${now.name} failed: ${now.error ?? 'no reason given'}`);
      stop();
    } else if (now.status === target) stop();
  });
  await Promise.race([subscribed, settled]);
  await mutate();
  await settled;
  if (failure) throw failure;
}

/** One line (or one JSON object) per change, for people watching and scripts reacting. */
export async function watchCommand(api: KnotApi, name: string | undefined, options: { json?: boolean }) {
  const print = (change: SpaceChange) => {
    const s = change.space;
    if (options.json) {
      console.log(
        JSON.stringify({
          time: new Date().toISOString(),
          kind: change.kind,
          id: change.spaceId,
          name: s?.name ?? null,
          status: s?.status ?? 'DELETED',
          error: s?.error ?? null,
          pullProgress: s?.pullProgress ?? null,
          updateAvailable: s?.updateAvailable ?? false,
          autoStopAt: s?.autoStopAt ?? null,
          autoStopReason: s?.autoStopReason ?? null,
          autoStopWarning: s?.autoStopWarning ?? false,
          stoppedReason: s?.stoppedReason ?? null,
        }),
      );
      return;
    }
    const parts = [new Date().toISOString(), s?.name ?? change.spaceId, s?.status ?? 'DELETED'];
    if (s?.pullProgress != null && s.status === 'STARTING') parts.push(`pulling ${s.pullProgress}%`);
    if (s?.error) parts.push(s.error);
    if (s?.updateAvailable) parts.push('update available');
    const planned = s?.status === 'RUNNING' ? countdown(s) : null;
    if (planned) parts.push(s!.autoStopWarning ? `warning: ${planned}` : planned);
    const why = s && (s.status === 'STOPPING' || s.status === 'STOPPED') ? stoppedBecause(s) : null;
    if (why) parts.push(why);
    console.log(parts.join('  '));
  };
  if (name) {
    const space = await findSpace(api, name);
    await api.subscribe(SPACE_CHANGED, { id: space.id }, (d) => print(d.spaceChanged));
    console.error(`${space.name} was deleted; nothing left to watch.`);
    return;
  }
  await api.subscribe(SPACES_CHANGED, {}, (d) => print(d.spacesChanged));
}

/** Keep running: moves an idle or maximum-uptime stop one period later and says when it now stops. */
export async function keepCommand(api: KnotApi, name: string) {
  const space = await findSpace(api, name);
  const { space: kept } = await api.request(KEEP_SPACE_RUNNING, { id: space.id });
  console.log(`${kept.name}: kept running; ${countdown(kept) ?? 'no automatic stop planned'}`);
}
