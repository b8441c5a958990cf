import { describe, expect, it } from 'vitest';
import { spaceStatuses, type SpaceStatus } from '../../schema/db/index.js';
import { TRANSITIONS } from '../../server/src/spaces/lifecycle.js';

/** Unit test of the state machine's table: the edges are the documented ones and no state is a dead end. */
describe('the space state machine', () => {
  const edges = Object.values(TRANSITIONS).flatMap(({ from, to }) => from.map((f) => `${f}→${to}`));

  it('allows exactly the documented changes of status', () => {
    expect(new Set(edges)).toEqual(
      new Set([
        // start, and how a start ends (boot reconciliation also fails a cut-off start)
        'STOPPED→STARTING',
        'FAILED→STARTING',
        'STARTING→RUNNING',
        'STARTING→FAILED',
        // stop, restart (STOPPING→STARTING on the server), a stop that fails
        'RUNNING→STOPPING',
        'STOPPING→STOPPED',
        'STOPPING→STARTING',
        'STOPPING→FAILED',
        // the container died
        'RUNNING→FAILED',
        // delete (the row then goes), or a delete that fails
        'STOPPED→DELETING',
        'FAILED→DELETING',
        'DELETING→FAILED',
        // manual templates: the agent connects, or goes silent
        'STOPPED→RUNNING',
        'FAILED→RUNNING',
        'RUNNING→STOPPED',
      ]),
    );
  });

  it('never leaves a state for itself, and only deletes a stopped or failed space', () => {
    for (const edge of edges) expect(edge.split('→')[0]).not.toBe(edge.split('→')[1]);
    expect(edges.filter((e) => e.endsWith('→DELETING')).sort()).toEqual(['FAILED→DELETING', 'STOPPED→DELETING']);
  });

  it('has a way out of every transitional state, so nothing needs to stay stuck', () => {
    const next = (s: SpaceStatus) => edges.filter((e) => e.startsWith(`${s}→`)).map((e) => e.split('→')[1] as SpaceStatus);
    for (const status of spaceStatuses) {
      // Every state reaches STOPPED or FAILED (DELETING also ends by its row going).
      const seen = new Set<SpaceStatus>([status]);
      const queue = [status];
      while (queue.length) {
        for (const n of next(queue.shift()!)) {
          if (!seen.has(n)) {
            seen.add(n);
            queue.push(n);
          }
        }
      }
      expect(seen.has('STOPPED') || seen.has('FAILED'), status).toBe(true);
    }
  });
});
