// `docker exec` as a stream pair: the web terminal's backend, and a way to read a file.
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { Connection } from './connection.js';
import { envList } from './container-spec.js';
import { RuntimeError, engineMessage, statusOf } from './errors.js';
import type { ExecOptions, ExecResult, ExecSession } from './runtime.js';

export async function startExec(
  conn: Connection,
  containerId: string,
  opts: ExecOptions,
  attachStdin = true,
): Promise<ExecSession> {
  const tty = opts.tty ?? false;
  const container = conn.docker.getContainer(containerId);
  let socket: Duplex;
  let exec;
  try {
    exec = await conn.call('create exec', (signal) =>
      container.exec({
        Cmd: opts.cmd,
        Env: envList(opts.env),
        Tty: tty,
        User: opts.user,
        WorkingDir: opts.workingDir,
        AttachStdin: attachStdin,
        AttachStdout: true,
        AttachStderr: true,
        abortSignal: signal,
      }),
    );
    socket = (await conn.call('start exec', (signal) =>
      exec!.start({ hijack: true, stdin: attachStdin, Tty: tty, abortSignal: signal }),
    )) as Duplex;
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) throw new RuntimeError(`container ${containerId} does not exist`, 'not-found', { cause: err });
    if (status === 409) throw new RuntimeError(`container ${containerId} is not running`, 'failed', { cause: err });
    if (status !== undefined) {
      throw new RuntimeError(`could not run ${opts.cmd.join(' ')} in ${containerId}: ${engineMessage(err)}`, 'failed', { cause: err });
    }
    throw err;
  }

  const stderr = new PassThrough();
  let broken: unknown;
  // A reset connection must not crash the process; exitCode() reports it instead.
  socket.on('error', (err) => (broken = err));
  // A keystroke goes out at once when the engine is reached over TCP (DOCKER_HOST=tcp://), not
  // after Nagle's delay (on the usual Unix socket it changes nothing).
  if (tty && socket instanceof Socket) socket.setNoDelay(true);
  // A tty's bytes come unframed: the socket itself is the output, so a keystroke's echo takes no
  // extra stream hop. Without a tty the engine frames stdout and stderr, and they are split apart.
  const demuxed = tty ? null : new PassThrough();
  if (demuxed) {
    // It leaves both outputs open when the socket closes: the close below ends them.
    conn.docker.modem.demuxStream(socket, demuxed, stderr);
  } else {
    stderr.end();
  }
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      if (demuxed && !demuxed.writableEnded) demuxed.end();
      if (!stderr.writableEnded) stderr.end();
      resolve();
    }),
  );
  if (!attachStdin) socket.end();

  let exitCode: Promise<number> | undefined;
  const waitExit = async (): Promise<number> => {
    await closed;
    if (broken) throw conn.unavailable(broken);
    // The connection closes as the process exits; the engine may record the code a moment later.
    for (let i = 0; i < 100; i++) {
      const info = await conn.call('inspect exec', (signal) => exec!.inspect({ abortSignal: signal }));
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new RuntimeError(`exec in ${containerId} still runs after its connection closed`, 'failed');
  };

  return {
    stdin: socket,
    output: demuxed ?? socket,
    stderr,
    resize: async (cols, rows) => {
      await conn.call('resize exec', (signal) => exec!.resize({ w: cols, h: rows, abortSignal: signal }));
    },
    exitCode: () => (exitCode ??= waitExit()),
    close: () => socket.destroy(),
  };
}

export async function collectExec(conn: Connection, containerId: string, cmd: string[]): Promise<ExecResult> {
  const session = await startExec(conn, containerId, { cmd }, false);
  const read = (stream: NodeJS.ReadableStream) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  const [stdout, stderr, exitCode] = await Promise.all([read(session.output), read(session.stderr), session.exitCode()]);
  return { exitCode, stdout, stderr };
}

/** A process the engine starts and nobody attaches to (a daemon such as the injected agent). */
export async function startDetached(conn: Connection, containerId: string, opts: ExecOptions): Promise<void> {
  const container = conn.docker.getContainer(containerId);
  try {
    const exec = await conn.call('create exec', (signal) =>
      container.exec({
        Cmd: opts.cmd,
        Env: envList(opts.env),
        User: opts.user,
        WorkingDir: opts.workingDir,
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        abortSignal: signal,
      }),
    );
    await conn.call('start exec', (signal) => exec.start({ Detach: true, abortSignal: signal }));
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) throw new RuntimeError(`container ${containerId} does not exist`, 'not-found', { cause: err });
    if (status === 409) throw new RuntimeError(`container ${containerId} is not running`, 'failed', { cause: err });
    if (status !== undefined) throw new RuntimeError(`could not run ${opts.cmd.join(' ')} in ${containerId}: ${engineMessage(err)}`, 'failed', { cause: err });
    throw err;
  }
}

/**
 * The commands (entrypoint and arguments) of the processes `docker exec` started in the container
 * that still run. The engine lists an exec while it runs and forgets it once it exited, so this
 * tells whether a daemon started with execDetached (the injected agent) is still alive.
 */
export async function runningExecs(conn: Connection, containerId: string): Promise<string[][]> {
  let ids: string[];
  try {
    const info = await conn.call('inspect container', (signal) => conn.docker.getContainer(containerId).inspect({ abortSignal: signal }));
    ids = (info as { ExecIDs?: string[] | null }).ExecIDs ?? [];
  } catch (err) {
    if (statusOf(err) === 404) throw new RuntimeError(`container ${containerId} does not exist`, 'not-found', { cause: err });
    throw err;
  }
  const commands = await Promise.all(
    ids.map(async (id) => {
      try {
        const exec = await conn.call('inspect exec', (signal) => conn.docker.getExec(id).inspect({ abortSignal: signal }));
        return exec.Running ? [exec.ProcessConfig.entrypoint, ...exec.ProcessConfig.arguments] : null;
      } catch (err) {
        // Exited and forgotten between the two reads.
        if (statusOf(err) === 404) return null;
        throw err;
      }
    }),
  );
  return commands.filter((c): c is string[] => c !== null);
}
