import { exec } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { AgentConfig } from './config.js';
import type { ServiceReport } from '../../protocol/service-report.js';

/** A probe that takes longer than this counts as "not answering": the report must not lag. */
const PROBE_TIMEOUT_MS = 1_000;
const STATUS_TIMEOUT_MS = 3_000;

/** True when something accepts a TCP connection on the space's loopback. */
export function tcpOpen(port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when `GET path` answers 200 (code-server's `/healthz`). */
export function httpOk(port: number, path: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    // No keep-alive (Node's default agent keeps the socket): an idle probe connection would look like a
    // person connected to the service, and count as activity (activity.ts).
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/**
 * Whether the VS Code tunnel is up. The agent cannot see the tunnel's connection itself, so it asks
 * the VS Code CLI: `code tunnel status` prints `{"tunnel": {"name", "tunnel": "Connected", …} | null}`
 * (null when no tunnel runs). KNOT_VSCODE_TUNNEL_STATUS replaces the command (for another CLI path,
 * or a test's fixture). Anything else — no CLI, bad JSON, a timeout — is "not connected".
 */
export function tunnelStatus(command: string, name: string): Promise<{ name: string; connected: boolean }> {
  return new Promise((resolve) => {
    exec(command, { timeout: STATUS_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (error, stdout) => {
      if (error) return resolve({ name, connected: false });
      try {
        const status = JSON.parse(stdout) as { tunnel?: { name?: unknown; tunnel?: unknown } | null };
        const tunnel = status.tunnel;
        const connected = !!tunnel && (tunnel.tunnel === 'Connected' || (typeof tunnel.tunnel === 'object' && tunnel.tunnel !== null && 'Connected' in tunnel.tunnel));
        resolve({ name: typeof tunnel?.name === 'string' && tunnel.name ? tunnel.name : name, connected });
      } catch {
        resolve({ name, connected: false });
      }
    });
  });
}

/** Probes everything the configuration names, in parallel. */
export async function collectReport(config: AgentConfig, terminal: boolean): Promise<ServiceReport> {
  const [ssh, codeServer, desktop, vscodeTunnel, openPorts] = await Promise.all([
    config.sshPort ? tcpOpen(config.sshPort) : false,
    config.codeServerPort ? httpOk(config.codeServerPort, '/healthz') : false,
    config.vncHttpPort ? tcpOpen(config.vncHttpPort) : false,
    config.vscodeTunnel ? tunnelStatus(config.vscodeTunnelStatusCommand, config.vscodeTunnel) : null,
    Promise.all(config.ports.map((p) => tcpOpen(p.port))),
  ]);
  return {
    terminal,
    codeServer,
    desktop,
    ssh,
    sshPort: ssh ? config.sshPort : null,
    ...(codeServer ? { codeServerPort: config.codeServerPort } : {}),
    ...(desktop ? { vncHttpPort: config.vncHttpPort } : {}),
    vscodeTunnel,
    ports: config.ports.filter((_, i) => openPorts[i]).map((p) => ({ port: p.port, name: p.name, protocol: p.protocol })),
  };
}
