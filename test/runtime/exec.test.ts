import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { useRuntime, waitFor } from './helpers.js';

function collect(stream: Readable) {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return () => text;
}

describe('exec', { timeout: 30_000 }, () => {
  const { runtime, spec, defer } = useRuntime();

  it('runs an interactive shell on a tty that echoes and resizes', async () => {
    const id = await runtime.runContainer(spec());
    const session = await runtime.exec(id, { cmd: ['sh'], tty: true, env: { KNOT_TERM: 'yes' } });
    defer(() => session.close());
    const output = collect(session.output);

    await session.resize(100, 40);
    // The quotes keep the typed-in echo of the command from matching the answer.
    session.stdin.write('echo "knot-$KNOT_TERM"; stty size\n');
    await waitFor(() => output().includes('knot-yes'), 5_000, 'echo over the tty');
    await waitFor(() => output().includes('40 100'), 5_000, 'stty size');

    session.stdin.write('exit 5\n');
    expect(await session.exitCode()).toBe(5);
  });

  it('keeps stdout and stderr apart without a tty', async () => {
    const id = await runtime.runContainer(spec());
    const session = await runtime.exec(id, { cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'] });
    const out = collect(session.output);
    const err = collect(session.stderr);
    expect(await session.exitCode()).toBe(3);
    await waitFor(() => session.output.readableEnded && session.stderr.readableEnded, 2_000, 'outputs ended');
    expect(out()).toBe('to-out\n');
    expect(err()).toBe('to-err\n');
  });

  it('feeds stdin and sees its end', async () => {
    const id = await runtime.runContainer(spec());
    const session = await runtime.exec(id, { cmd: ['wc', '-c'], workingDir: '/tmp', user: 'nobody' });
    const out = collect(session.output);
    session.stdin.end('twelve bytes');
    expect(await session.exitCode()).toBe(0);
    expect(out().trim()).toBe('12');
  });

  it('collects the output of a command, e.g. to read a file', async () => {
    const id = await runtime.runContainer(spec({ env: ['FROM_ENV=1'] }));
    expect(await runtime.execCollect(id, ['sh', '-c', 'echo $FROM_ENV; cat /nope'])).toEqual({
      exitCode: 1,
      stdout: '1\n',
      stderr: 'cat: can\'t open \'/nope\': No such file or directory\n',
    });
  });

  it('says clearly when the container is not running or missing', async () => {
    await expect(runtime.execCollect('knot-test-does-not-exist', ['true'])).rejects.toThrow(
      'container knot-test-does-not-exist does not exist',
    );
    const id = await runtime.runContainer(spec({ cmd: ['true'] }));
    await expect.poll(async () => (await runtime.inspectContainer(id))?.running).toBe(false);
    await expect(runtime.execCollect(id, ['true'])).rejects.toThrow(`container ${id} is not running`);
  });
});
