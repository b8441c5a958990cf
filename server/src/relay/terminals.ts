import WebSocket, { type RawData } from 'ws';
import type { Logger } from '../logger.js';
import type { ReplicaAddress, ReplicaRegistry } from '../replicas/registry.js';
import type { RemoteSessionRequest, RemoteTerminals } from '../terminal/remote.js';
import { truncate } from '../terminal/route.js';
import { MAX_RELAY_FRAME, RELAY_PATH } from './client.js';
import { RELAY_HEADER, signRelay } from './signature.js';

/** Frames queued towards a slow side before the other side's socket is paused (TCP then holds its sender back). */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/**
 * A browser's terminal socket joined to a session held by another replica, over that replica's
 * signed `/internal/relay` (kind `session`). Frames pass unchanged both ways (binary terminal
 * bytes, the session's text frames, resizes), so the holding replica replays what the browser
 * missed and goes on live. A relay that breaks closes the browser's socket with 1011, which the
 * page answers by reattaching: to that replica again, or, if it died, to whichever takes it over.
 */
export class RelayingTerminals implements RemoteTerminals {
  constructor(
    private registry: ReplicaRegistry,
    private secret: Buffer,
    private log: Logger,
  ) {}

  attach(browser: WebSocket, replica: ReplicaAddress, request: RemoteSessionRequest): void {
    // What the browser sends before the far side is there waits in its socket.
    browser.pause();
    const header = signRelay(this.secret, {
      to: replica.id,
      from: this.registry.id,
      spaceId: request.spaceId,
      open: { kind: 'session', session: request.session, from: request.from, cols: request.size?.cols, rows: request.size?.rows },
      by: request.userId,
    });
    const far = new WebSocket(`${replica.url.replace(/^http/, 'ws')}${RELAY_PATH}`, { headers: { [RELAY_HEADER]: header }, perMessageDeflate: false, maxPayload: MAX_RELAY_FRAME });
    far.on('error', (err) => this.log.info({ replica: replica.id, err: err.message }, 'terminal relay error'));
    far.once('unexpected-response', (req, res) => {
      req.destroy();
      this.log.warn({ replica: replica.id, status: res.statusCode }, 'the replica holding a terminal session refused the relay');
      far.terminate();
    });
    far.once('open', () => {
      forward(browser, far);
      forward(far, browser);
      browser.resume();
    });
    far.once('close', (code, reason) => {
      if (browser.readyState !== browser.OPEN) return;
      // Still paused if the far side never opened: it must read the browser's answer to the close.
      browser.resume();
      // 1005/1006 are never sent: the far side went without a close frame.
      if (code === 1005 || code === 1006) browser.close(1011, 'The connection to the Knot server holding this terminal was lost.');
      else browser.close(code, truncate(reason.toString()));
    });
    browser.once('close', () => {
      if (far.readyState === far.OPEN) far.close(1000);
      else far.terminate();
    });
  }
}

/** Every frame of `from` to `to`, as it came (binary or text); `from` pauses while `to` lags. */
function forward(from: WebSocket, to: WebSocket) {
  let queued = 0;
  from.on('message', (data: RawData, isBinary: boolean) => {
    if (to.readyState !== to.OPEN) return;
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    queued += bytes.length;
    to.send(bytes, { binary: isBinary }, () => {
      queued -= bytes.length;
      if (queued < LOW_WATER && from.isPaused) from.resume();
    });
    if (queued > HIGH_WATER && !from.isPaused) from.pause();
  });
}
