import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { CliProcess, runCli } from './run-cli.js';

/** `knot spaces keep` and the automatic-stop words of `knot spaces watch`, on a real server and Docker with a 10 s idle timeout. */
describe('the knot CLI and automatic stops', () => {
  let h: SpacesHarness;
  let home: string;
  const processes: CliProcess[] = [];
  const knot = (args: string[]) => runCli(home, args);

  beforeAll(async () => {
    h = await startSpacesHarness({ config: { autoStopWarningSeconds: 4, activityFlushMs: 1_000 } });
    home = mkdtempSync(path.join(tmpdir(), 'knot-cli-autostop-'));
    expect((await knot(['login', h.server.url, '--token', h.admin.token])).code).toBe(0);
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await h?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('keeps a running space, prints the countdown and the warning while watching, says why Knot stopped it, and refuses to keep a stopped one', async () => {
    const template = await h.createTemplate({ name: 'idle', idleTimeoutSeconds: 10 });
    const space = await h.createSpace({ templateId: template.id, name: 'idler' });
    const watch = new CliProcess(home, ['spaces', 'watch']);
    processes.push(watch);
    await watch.line((l) => / idler {2}STOPPED$/.test(l));
    await h.startAndWait(space.id);
    const running = await watch.line((l) => / idler {2}RUNNING {2}stops in \d+ s — idle$/.test(l));

    const kept = await knot(['spaces', 'keep', 'idler']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/^idler: kept running; stops in (9|10) s — idle\n$/);

    await watch.line((l) => / idler {2}RUNNING {2}warning: stops in [1-4] s — idle$/.test(l), { from: running.index + 1 });
    await watch.line((l) => / idler {2}STOPPED {2}stopped by Knot: idle$/.test(l), { from: running.index + 1 });
    await watch.stop();

    const refused = await knot(['spaces', 'keep', 'idler']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('knot: "idler" is stopped; only a running space can be kept running.\n');
    const missing = await knot(['spaces', 'keep', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('knot: You have no space named "nobody" (your spaces: idler).\n');
  });
});
