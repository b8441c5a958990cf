import WebSocket from 'ws';
import type { AgentConfig } from './config.js';
import type { Log } from './log.js';
import { Mux } from '../../protocol/mux.js';
import { busyServices } from './activity.js';
import { collectReport } from './probes.js';
import {
  AGENT_PATH,
  MAX_MESSAGE,
  PROTOCOL_VERSION,
  SPACE_HEADER,
  decodeData,
  encodeData,
  parseServerMessage,
  type AgentMessage,
} from '../../protocol/agent-wire.js';
import type { HealthReport } from '../../protocol/health.js';
import type { ServiceReport } from '../../protocol/service-report.js';
import { HealthMonitor } from './health.js';
import { KeptShells } from './kept-shells.js';
import type { PtyLauncher } from './pty.js';
import { AgentStreams } from './streams.js';

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** A connection that lived this long was healthy: the next failure starts the backoff over. */
const HEALTHY_AFTER_MS = 10_000;

export const AGENT_NAME = 'knot-agent/1';

/**
 * The agent's one connection to the server: reports what answers every interval (the full report
 * when it changed, a heartbeat otherwise), serves the server's streams, and reconnects with
 * exponential backoff and jitter whenever the connection fails or is refused.
 */
export class AgentClient {
  private ws: WebSocket | null = null;
  private streams: AgentStreams | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  private lastSent: string | null = null;
  private lastPong = 0;
  private probing = false;
  private health: HealthMonitor | null = null;
  private lastHealthSent: string | null = null;
  /** Terminal shells, which outlive a lost connection (for config.terminalDetachMs) to be resumed on the next. */
  private shells: KeptShells;

  constructor(
    private config: AgentConfig,
    private launcher: PtyLauncher,
    private log: Log,
  ) {
    this.shells = new KeptShells(config.terminalDetachMs, log);
  }

  start(): void {
    if (this.config.healthcheck) {
      this.health = new HealthMonitor(this.config.healthcheck, (report) => this.sendHealth(report));
      this.health.start();
    }
    this.connect();
  }

  /** Only what changed goes out; a fresh connection hears the latest outcome again. */
  private sendHealth(report: HealthReport) {
    const text = JSON.stringify(report);
    if (text === this.lastHealthSent || this.ws?.readyState !== WebSocket.OPEN) return;
    this.lastHealthSent = text;
    this.send({ t: 'health', health: report });
  }

  stop(): void {
    this.stopped = true;
    this.health?.stop();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.ws?.close(1001, 'agent stopping');
    this.teardown('the agent is stopping');
    this.shells.endAll();
  }

  private connect() {
    const url = `${this.config.server.replace(/^http/, 'ws')}${AGENT_PATH}`;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.config.token}`, [SPACE_HEADER]: this.config.spaceId },
      maxPayload: MAX_MESSAGE,
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    const openedAt = Date.now();
    const mux = new Mux({
      sendControl: (message) => this.send(message),
      sendData: (id, payload) => ws.readyState === WebSocket.OPEN && ws.send(encodeData(id, payload), { binary: true }),
    });

    ws.on('open', () => {
      this.log.info(`connected to ${url}`);
      this.streams = new AgentStreams(mux, (m) => this.send(m), this.launcher, this.shells, this.log);
      this.lastSent = null;
      this.lastPong = Date.now();
      this.send({ t: 'hello', version: PROTOCOL_VERSION, agent: AGENT_NAME, reportIntervalMs: this.config.reportIntervalMs });
      this.lastHealthSent = null;
      if (this.health?.latest) this.sendHealth(this.health.latest);
      void this.tick();
      this.timer = setInterval(() => void this.tick(), this.config.reportIntervalMs);
    });
    ws.on('pong', () => (this.lastPong = Date.now()));
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        const frame = decodeData(buffer);
        if (frame) mux.handleData(frame.id, frame.payload);
        return;
      }
      const message = parseServerMessage(buffer.toString('utf8'));
      if (!message) return this.log.warn('ignored a malformed message from the server');
      this.streams?.handle(message);
    });
    ws.on('unexpected-response', (_req, res) => {
      this.log.warn(`the server refused the connection: HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', (err) => this.log.warn(`connection error: ${err.message}`));
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.teardown('the connection to the server was lost');
      if (Date.now() - openedAt > HEALTHY_AFTER_MS) this.attempt = 0;
      if (this.stopped) return;
      const delay = this.nextDelay();
      this.log.warn(`disconnected (${code}${reason.length ? ` ${reason.toString()}` : ''}); reconnecting in ${delay} ms`);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  /** Exponential, capped, and jittered so a fleet of agents does not reconnect in lockstep after a server restart. */
  private nextDelay(): number {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private teardown(reason: string) {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.streams?.closeAll(reason);
    this.streams = null;
  }

  private send(message: AgentMessage) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private async tick() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    // A server that vanished without closing (a dead network path) stops answering pings.
    if (Date.now() - this.lastPong > 3 * this.config.reportIntervalMs + 5_000) {
      this.log.warn('the server stopped answering; reconnecting');
      ws.terminate();
      return;
    }
    ws.ping();
    // A slow probe (a hung tunnel status command) must not make the agent look silent.
    if (this.probing) return this.send({ t: 'hb' });
    this.probing = true;
    let report: ServiceReport;
    try {
      // Read before the probes, whose own short connections would otherwise count.
      const busy = await busyServices(this.config);
      if (busy.length) this.send({ t: 'activity', what: busy });
      report = await collectReport(this.config, true);
    } finally {
      this.probing = false;
    }
    if (this.ws !== ws) return;
    const text = JSON.stringify(report);
    if (text === this.lastSent) return this.send({ t: 'hb' });
    this.lastSent = text;
    this.send({ t: 'report', report });
  }
}
