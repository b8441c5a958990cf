import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { AgentRefusal, type AgentConnections, type AgentShell } from '../agent-gateway/types.js';
import type { Logger } from '../logger.js';
import type { TerminalBackend, TerminalSize } from './backend.js';

/**
 * Manual spaces have no Docker to exec into: their agent runs the pty. The agent keeps the shell
 * when its own connection to the server breaks (a laptop on a train), so this backend outlives
 * that too: it waits up to `detachMs` for the agent to come back, then resumes the shell from the
 * last byte it had, and the session's sockets go on with the output produced meanwhile.
 */
export async function openAgentShell(
  agents: AgentConnections,
  spaceId: string,
  shell: string,
  size: TerminalSize,
  detachMs: number,
  log: Logger,
  asker: string,
): Promise<TerminalBackend> {
  const key = randomBytes(18).toString('base64url');
  const first = await agents.openShell(spaceId, { shell, cols: size.cols, rows: size.rows, keep: key }, asker);
  return new ResumableAgentShell(agents, spaceId, key, first, size, detachMs, log, asker, 0);
}

/**
 * A shell the space's agent keeps under `key`, resumed from output byte `from`: the terminal of a
 * replica that died, taken over by this one. Waits up to `waitMs` for the agent to be reachable
 * (it is reconnecting too); throws AgentRefusal when the agent no longer has that shell.
 */
export async function resumeAgentShell(
  agents: AgentConnections,
  spaceId: string,
  key: string,
  from: number,
  size: TerminalSize,
  detachMs: number,
  waitMs: number,
  log: Logger,
  asker: string,
): Promise<TerminalBackend> {
  const shell = await resumeWhenBack(agents, spaceId, key, from, asker, Date.now() + waitMs, () => false);
  if (!shell) throw new Error('the space\'s agent did not come back in time');
  shell.resize(size.cols, size.rows);
  return new ResumableAgentShell(agents, spaceId, key, shell, size, detachMs, log, asker, from);
}

/**
 * Waits for the agent to be reachable and asks it for the kept shell from byte `from`; null when
 * `deadline` passed or `gaveUp()`. An AgentRefusal (the agent no longer has the shell) is thrown;
 * anything else (it left again, timed out) waits on.
 */
async function resumeWhenBack(
  agents: AgentConnections,
  spaceId: string,
  key: string,
  from: number,
  asker: string,
  deadline: number,
  gaveUp: () => boolean,
): Promise<AgentShell | null> {
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0 || gaveUp()) return null;
    try {
      await agents.whenConnected(spaceId, AbortSignal.timeout(left));
      return await agents.resumeShell(spaceId, key, from, asker);
    } catch (err) {
      if (err instanceof AgentRefusal) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100).unref());
    }
  }
}

class ResumableAgentShell implements TerminalBackend {
  readonly output = new PassThrough();
  readonly input: Writable;
  readonly exited: Promise<number | null>;
  private resolveExit!: (code: number | null) => void;
  private current: AgentShell | null = null;
  /** Keystrokes that arrived while the agent was away: sent on the resumed stream (the socket is paused meanwhile). */
  private held: { chunk: Buffer; done: (err?: Error | null) => void }[] = [];
  private done = false;

  constructor(
    private readonly agents: AgentConnections,
    private readonly spaceId: string,
    /** The agent keeps the shell under this name through a lost connection (TerminalBackend.keep). */
    readonly keep: string,
    first: AgentShell,
    private size: TerminalSize,
    private readonly detachMs: number,
    private readonly log: Logger,
    private readonly asker: string,
    /** Output bytes received from the agent (from its first): where a resume starts. */
    private received: number,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.input = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        if (this.current && !this.current.stream.destroyed) this.current.stream.write(chunk, () => done());
        else if (this.done) done();
        else this.held.push({ chunk, done });
      },
    });
    this.attach(first);
  }

  resize(cols: number, rows: number) {
    this.size = { cols, rows };
    this.current?.resize(cols, rows);
  }

  close() {
    // While the agent is away the shell cannot be told: the wait goes on, and the shell is ended
    // as soon as it is resumed (or by the agent's own detach timer).
    this.current?.close();
    this.finish(null);
  }

  private attach(shell: AgentShell) {
    this.current = shell;
    const { stream } = shell;
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => {
      if (this.done) return;
      this.received += chunk.length;
      if (!this.output.write(chunk)) {
        stream.pause();
        this.output.once('drain', () => stream.resume());
      }
    });
    stream.once('close', () => void shell.exited.then((code) => this.streamClosed(shell, code)));
    for (const { chunk, done } of this.held.splice(0)) stream.write(chunk, () => done());
  }

  private streamClosed(shell: AgentShell, code: number) {
    if (this.current !== shell) return;
    this.current = null;
    if (this.done) return;
    if (!shell.lost || this.detachMs === 0) return this.finish(shell.lost ? null : code);
    this.log.info({ spaceId: this.spaceId }, 'terminal: the agent lost its connection; waiting for it to resume the shell');
    void this.resume();
  }

  /** Waits for the agent to connect again and asks it for the shell from the byte we got to. */
  private async resume() {
    let shell: AgentShell | null;
    try {
      shell = await resumeWhenBack(this.agents, this.spaceId, this.keep, this.received, this.asker, Date.now() + this.detachMs, () => this.done);
    } catch {
      return this.finish(null); // the agent no longer has the shell
    }
    if (!shell) return this.finish(null);
    if (this.done) return shell.close();
    this.attach(shell);
    shell.resize(this.size.cols, this.size.rows);
    this.log.info({ spaceId: this.spaceId, from: this.received }, 'terminal: the agent is back and resumed the shell');
  }

  private finish(code: number | null) {
    if (this.done) return;
    this.done = true;
    for (const { done } of this.held.splice(0)) done();
    this.output.end();
    this.resolveExit(code);
  }
}
