import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { MAX_HEALTH_REASON, type HealthCheck, type HealthReport } from '../../protocol/health.js';

/** Why a probe failed; null when it passed. */
type Outcome = string | null;

function httpProbe(port: number, path: string, timeoutMs: number): Promise<Outcome> {
  const target = `GET http://127.0.0.1:${port}${path}`;
  return new Promise((resolve) => {
    // No keep-alive (Node's default agent keeps the socket): an idle probe connection would look like a
    // person connected to the service, and count as activity (activity.ts).
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      // As `curl -f` in a Docker HEALTHCHECK: any answer below 400 is healthy.
      resolve(status >= 200 && status < 400 ? null : `${target} answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (err: NodeJS.ErrnoException) => resolve(`${target} failed: ${err.code === 'ECONNREFUSED' ? 'nothing listens on the port' : err.message}`));
    req.end();
  });
}

function tcpProbe(port: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (outcome: Outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done(`port ${port} did not accept a connection within ${timeoutMs} ms`));
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(`port ${port} refused the connection${err.code && err.code !== 'ECONNREFUSED' ? ` (${err.code})` : ''}`));
  });
}

function commandProbe(command: string[], timeoutMs: number): Promise<Outcome> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(null);
      const said = `${stderr}\n${stdout}`.trim().split('\n').filter(Boolean).pop()?.trim();
      const why = error.killed ? `did not finish within ${timeoutMs} ms` : typeof error.code === 'number' ? `exited with code ${error.code}` : error.message;
      resolve(`${command.join(' ')} ${why}${said ? `: ${said}` : ''}`);
    });
  });
}

export function runProbe(check: HealthCheck): Promise<Outcome> {
  if ('http' in check) return httpProbe(check.http.port, check.http.path, check.timeoutMs);
  if ('tcp' in check) return tcpProbe(check.tcp.port, check.timeoutMs);
  return commandProbe(check.command, check.timeoutMs);
}

/**
 * Runs the template's check every interval, whether or not the server is connected, and keeps the
 * latest outcome: healthy, or failing N times in a row with the last reason. The server decides
 * what `retries` failures mean (UNHEALTHY, perhaps a restart); the agent only counts.
 */
export class HealthMonitor {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  latest: HealthReport | null = null;

  constructor(
    private check: HealthCheck,
    private onResult: (report: HealthReport) => void,
    private probe: (check: HealthCheck) => Promise<Outcome> = runProbe,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async run() {
    const reason = await this.probe(this.check).catch((err: Error) => `the check could not run: ${err.message}`);
    if (this.stopped) return;
    const failures = reason === null ? 0 : (this.latest?.failures ?? 0) + 1;
    this.latest = { healthy: reason === null, failures, retries: this.check.retries, reason: reason?.slice(0, MAX_HEALTH_REASON) ?? null };
    this.onResult(this.latest);
    this.timer = setTimeout(() => void this.run(), this.check.intervalMs);
  }
}
