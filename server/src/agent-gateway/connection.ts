import type { WebSocket, RawData } from 'ws';
import { Mux, type MuxStream } from '../../../protocol/mux.js';
import {
  CloseCode,
  MAX_STREAMS,
  decodeData,
  encodeData,
  parseAgentMessage,
  type AgentMessage,
  type ServerMessage,
} from '../../../protocol/agent-wire.js';
import type { HealthReport } from '../../../protocol/health.js';
import type { ServiceReport } from '../../../protocol/service-report.js';
import type { Logger } from '../logger.js';
import { AgentRefusal, type AgentShell } from './types.js';

/** How long the agent has to answer an open (a dial connecting, a shell starting). */
const OPEN_TIMEOUT_MS = 10_000;

type ShellRequest = { kind: 'shell'; shell: string; cols: number; rows: number; keep?: string } | { kind: 'resume'; keep: string; from: number };
type OpenRequest = { kind: 'dial'; port: number } | ShellRequest;

/**
 * One authenticated agent on this replica: its streams, its last report, and when it last spoke.
 * Anything the agent sends that does not parse closes the connection (4400) with a log line.
 */
export class AgentConnection {
  readonly mux: Mux;
  lastSeen = Date.now();
  report: ServiceReport | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve: (stream: MuxStream) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    readonly spaceId: string,
    readonly ownerId: string,
    readonly session: string,
    readonly tokenHash: string,
    private log: Logger,
    private onReport: (report: ServiceReport) => void,
    private onHealth: (health: HealthReport) => void = () => {},
    private onActivity: () => void = () => {},
  ) {
    this.mux = new Mux({
      sendControl: (message) => this.send(message as ServerMessage),
      sendData: (id, payload) => this.ws.readyState === this.ws.OPEN && this.ws.send(encodeData(id, payload), { binary: true }),
    });
  }

  private send(message: ServerMessage) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Closes the socket and logs why; the gateway's close handler does the rest. */
  refuse(code: number, reason: string, detail?: Record<string, unknown>): void {
    this.log.warn({ spaceId: this.spaceId, code, ...detail }, `agent connection closed: ${reason}`);
    this.ws.close(code, reason);
  }

  handleMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.lastSeen = Date.now();
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      const frame = decodeData(buffer);
      if (!frame) return this.refuse(CloseCode.malformed, 'malformed data frame');
      this.mux.handleData(frame.id, frame.payload);
      return;
    }
    const message = parseAgentMessage(buffer.toString('utf8'));
    if (!message) return this.refuse(CloseCode.malformed, 'malformed message', { sample: buffer.subarray(0, 200).toString('utf8') });
    this.handle(message);
  }

  private handle(message: AgentMessage) {
    switch (message.t) {
      case 'hello':
        this.log.info({ spaceId: this.spaceId, agent: message.agent, version: message.version }, 'agent connected');
        return;
      case 'hb':
        return;
      case 'report':
        if (JSON.stringify(message.report) === JSON.stringify(this.report)) return;
        this.report = message.report;
        this.onReport(message.report);
        return;
      case 'health':
        this.onHealth(message.health);
        return;
      case 'activity':
        this.onActivity();
        return;
      case 'opened': {
        const waiting = this.takePending(message.id);
        // An answer after we gave up (timeout, caller gone): the agent must not keep that stream.
        if (!waiting) return this.send({ t: 'close', id: message.id, message: 'nobody is waiting for this stream' });
        waiting.resolve(this.mux.add(message.id));
        return;
      }
      case 'refused':
        this.takePending(message.id)?.reject(new AgentRefusal(message.message));
        return;
      case 'exit':
        this.mux.get(message.id)?.emit('shell-exit', message.code);
        return;
      default:
        this.mux.handleControl(message);
    }
  }

  private takePending(id: number) {
    const waiting = this.pending.get(id);
    if (!waiting) return undefined;
    this.pending.delete(id);
    clearTimeout(waiting.timer);
    return waiting;
  }

  /** Asks the agent to open a stream; resolves once it is open inside the space. */
  open(request: OpenRequest): Promise<MuxStream> {
    if (this.closed) return Promise.reject(new Error('the agent is no longer connected'));
    if (this.mux.size + this.pending.size >= MAX_STREAMS) {
      return Promise.reject(new Error(`too many open streams to this space (at most ${MAX_STREAMS})`));
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the agent did not answer in time'));
      }, OPEN_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ t: 'open', id, ...request } as ServerMessage);
    });
  }

  /** A new shell, or (`resume`) one the agent kept from an earlier connection. */
  async openShell(request: ShellRequest): Promise<AgentShell> {
    const stream = await this.open(request);
    let lost = false;
    const exited = new Promise<number>((resolve) => {
      let code: number | null = null;
      stream.once('shell-exit', (c: number) => {
        code = c;
        resolve(c);
      });
      stream.once('close', () => {
        // Closed by dispose() with no exit heard: the connection went, and a kept shell lives on in the space.
        lost = this.closed && code === null;
        resolve(code ?? -1);
      });
    });
    return {
      stream,
      resize: (cols, rows) => {
        if (!stream.destroyed && Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0) {
          this.send({ t: 'resize', id: stream.id, cols: Math.min(cols, 10_000), rows: Math.min(rows, 10_000) });
        }
      },
      exited,
      get lost() {
        return lost;
      },
      close: () => stream.destroy(),
      detach: () => stream.detach(),
    };
  }

  /** The socket is gone: every stream and every waiting open fails. */
  dispose(reason: string): void {
    this.closed = true;
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error(reason));
      this.pending.delete(id);
    }
    this.mux.closeAll(reason);
  }
}
