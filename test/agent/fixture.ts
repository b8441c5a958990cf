/**
 * What the agent tests share: the bundled agent (built once per run), a server that containers can
 * reach, log capture (refusals must leave a log line), an agent run as a host process (a manual
 * space's machine), and an agent socket spoken by hand for protocol abuse.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { buildAgent } from '../../agent/build.mjs';
import { AGENT_PATH, SPACE_HEADER } from '../../protocol/agent-wire.js';
import type { Logger } from '../../server/src/logger.js';
import { NODE_IMAGE } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';

let built: Promise<string> | null = null;
/** The agent bundle, built once per test process (the server serves the same file). */
export function agentBundle(): Promise<string> {
  built ??= buildAgent();
  return built;
}

export const SERVICES_FIELDS = `services { terminal codeServer desktop ssh vscodeTunnel { name connected } ports { port name protocol url } }`;
export const WATCH_SERVICES = `subscription($id: ID!) { spaceChanged(id: $id) { kind spaceId space { id status error ${SERVICES_FIELDS} } } }`;
export const CREATE_AGENT_TOKEN = `mutation($id: ID!) { createAgentToken(spaceId: $id) { token environment space { id status } } }`;

export interface ServicesView {
  terminal: boolean;
  codeServer: boolean;
  desktop: boolean;
  ssh: boolean;
  vscodeTunnel: { name: string; connected: boolean } | null;
  ports: { port: number; name: string; protocol: string; url: string | null }[];
}
export interface ServicesChange {
  spaceChanged: { kind: string; spaceId: string; space: { id: string; status: string; error: string | null; services: ServicesView } | null };
}

/** Log lines as objects, for asserting that a refusal was logged. */
export function captureLogs(): { logger: Logger; lines: Record<string, unknown>[]; find(text: string): Record<string, unknown> | undefined } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const logger = pino({ level: 'info', base: { service: 'knot' } }, sink);
  // The latest matching line: tests look for what they just caused.
  return { logger, lines, find: (text) => [...lines].reverse().find((l) => String(l.msg).includes(text)) };
}

/**
 * A Docker job that runs real services and the agent fetched from the server, as a template would:
 * busybox httpd on 8080 (an HTTP port), a Node TCP echo on 9000, and a fake code-server (httpd
 * serving `healthz`) on 13337. Each writes its pid to /tmp/<name>.pid so a test can kill it.
 */
export function agentJob(environment: Record<string, string> = {}): string {
  const env = {
    KNOT_HTTP_PORT: '8080=web',
    KNOT_TCP_PORT: '9000=echo',
    KNOT_CODE_SERVER_PORT: '13337',
    KNOT_VSCODE_TUNNEL: 'my-tunnel',
    KNOT_VSCODE_TUNNEL_STATUS: 'cat /tmp/tunnel.json',
    KNOT_REPORT_INTERVAL_MS: '300',
    ...environment,
  };
  return [
    `image: ${NODE_IMAGE}`,
    'command:',
    '  - sh',
    '  - -c',
    '  - |',
    '    mkdir -p /srv/web /srv/code',
    '    echo hello from the space > /srv/web/index.html',
    '    echo ok > /srv/code/healthz',
    '    httpd -f -p 127.0.0.1:8080 -h /srv/web & echo $! > /tmp/web.pid',
    '    httpd -f -p 127.0.0.1:13337 -h /srv/code & echo $! > /tmp/code.pid',
    `    node -e "require('net').createServer((s) => s.pipe(s)).listen(9000, '127.0.0.1')" & echo $! > /tmp/echo.pid`,
    '    wget -qO /tmp/knot-agent.mjs "$KNOT_SERVER/agent/knot-agent.mjs"',
    '    node /tmp/knot-agent.mjs & echo $! > /tmp/agent.pid',
    '    exec sleep 3600',
    'environment:',
    ...Object.entries(env).map(([k, v]) => `  ${k}: "${v}"`),
  ].join('\n');
}

/**
 * A job with no agent lines (Knot brings the agent): busybox httpd serving a page on 8080 (an HTTP
 * port) and answering on 2222 where the template says sshd listens. Runs in any image with busybox.
 */
export function plainJob(image: string, extra = ''): string {
  return [
    `image: ${image}`,
    'command:',
    '  - sh',
    '  - -c',
    '  - |',
    '    mkdir -p /srv/web && echo hello from a plain image > /srv/web/index.html',
    '    httpd -f -p 127.0.0.1:8080 -h /srv/web &',
    '    httpd -f -p 127.0.0.1:2222 -h /srv/web &',
    '    exec sleep 3600',
    'environment:',
    '  KNOT_HTTP_PORT: "8080=web"',
    '  KNOT_SSH_PORT: "2222"',
    '  KNOT_REPORT_INTERVAL_MS: "300"',
    extra,
  ].join('\n');
}

/** The agent as a plain process on this machine: a manual space's agent. */
export class HostAgent {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private child: ChildProcess;

  constructor(bundle: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, [bundle], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', KNOT_REPORT_INTERVAL_MS: '300', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.on('data', (chunk: Buffer) => this.output.push(...chunk.toString().split('\n').filter(Boolean)));
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits for a line of the agent's own log. */
  async logged(text: string, timeout = 20_000): Promise<string> {
    return waitFor(() => this.output.find((l) => l.includes(text)), { timeout, what: `agent log "${text}" (got: ${this.output.join(' | ')})` });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** An agent socket spoken by hand: for what a real agent never sends. */
export class RawAgent {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly received: (Record<string, unknown> | Buffer)[] = [];

  constructor(baseUrl: string, spaceId: string | null, token: string | null) {
    const headers: Record<string, string> = {};
    if (spaceId) headers[SPACE_HEADER] = spaceId;
    if (token) headers.authorization = `Bearer ${token}`;
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${AGENT_PATH}`, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {});
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => this.received.push(isBinary ? (data as Buffer) : JSON.parse(String(data))));
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  close(): void {
    this.ws.terminate();
  }
}

export const NO_SERVICES: ServicesView = { terminal: false, codeServer: false, desktop: false, ssh: false, vscodeTunnel: null, ports: [] };

/** A report as a real agent sends it, for hand-spoken agents. */
export function report(overrides: Record<string, unknown> = {}) {
  return {
    t: 'report',
    report: { terminal: true, codeServer: false, desktop: false, ssh: false, sshPort: null, vscodeTunnel: null, ports: [], ...overrides },
  };
}
