import { describe, expect, it } from 'vitest';
import type { ContainerEvent } from '../../server/src/runtime/index.js';
import { dockerCli, useRuntime, waitFor } from './helpers.js';

describe('events', { timeout: 30_000 }, () => {
  const { runtime, labels, spec, defer } = useRuntime();

  it('sees a container killed from outside die with its exit code', async () => {
    const events: ContainerEvent[] = [];
    const watch = runtime.watchEvents((e) => events.push(e), { labels });
    defer(() => watch.close());
    await watch.ready;

    const id = await runtime.runContainer(spec({ labels: { 'knot.space': 'ev1' } }));
    await waitFor(() => events.find((e) => e.containerId === id && e.action === 'start'), 5_000, 'start event');

    await dockerCli('kill', id);
    const died = await waitFor(() => events.find((e) => e.containerId === id && e.action === 'die'), 5_000, 'die event');
    expect(died.exitCode).toBe(137);
    expect(died.labels).toEqual({ ...labels, 'knot.space': 'ev1' });
    expect(events.find((e) => e.containerId === id && e.action === 'kill')).toBeDefined();
  });

  it('only reports containers carrying the labels asked for', async () => {
    const events: ContainerEvent[] = [];
    const watch = runtime.watchEvents((e) => events.push(e), { labels: { ...labels, 'knot.space': 'mine' } });
    defer(() => watch.close());
    await watch.ready;

    const other = await runtime.runContainer(spec({ labels: { 'knot.space': 'theirs' } }));
    const mine = await runtime.runContainer(spec({ labels: { 'knot.space': 'mine' } }));
    await waitFor(() => events.find((e) => e.containerId === mine && e.action === 'start'), 5_000, 'start event');
    expect(events.some((e) => e.containerId === other)).toBe(false);
  });

  it('reports destroy when a container is removed', async () => {
    const events: ContainerEvent[] = [];
    const watch = runtime.watchEvents((e) => events.push(e), { labels });
    defer(() => watch.close());
    await watch.ready;

    const id = await runtime.runContainer(spec());
    await runtime.stopAndRemoveContainer(id, { timeoutSeconds: 1 });
    await waitFor(() => events.find((e) => e.containerId === id && e.action === 'destroy'), 5_000, 'destroy event');
    const actions = events.filter((e) => e.containerId === id).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['create', 'start', 'die', 'destroy']));
  });
});
