import { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { truncate } from '../terminal/route.js';

/** Text frames on a relay socket: the stream's control messages (data is always binary). */
export type RelayControl =
  | { t: 'opened' }
  | { t: 'end' }
  | { t: 'resize'; cols: number; rows: number }
  | { t: 'exit'; code: number };

/**
 * Close codes of a relay socket: a normal end, the far side failing (its reason says why), and
 * the agent refusing the open (AgentRefusal: e.g. it no longer has the shell to resume).
 */
export const RELAY_DONE = 1000;
export const RELAY_FAILED = 4502;
export const RELAY_REFUSED = 4403;

function bytes(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * A byte stream over a WebSocket between two replicas, with the semantics of a stream to an agent
 * (agent-gateway/types.ts): flow-controlled both ways (a write completes when the frame reaches
 * the socket, so a slow far side holds the writer back; a reader that stops reading pauses the
 * socket, so TCP holds the far side back), `end()` half-closes (an `end` frame), and a far side
 * that goes away destroys the stream with no 'error' ('close' without 'end'). Destroying it closes
 * the socket. Other text frames go to `onControl`.
 */
export function relayStream(ws: WebSocket, onControl: (message: RelayControl) => void = () => {}): Duplex {
  let farEnded = false;
  const stream = new Duplex({
    allowHalfOpen: true,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState !== ws.OPEN) return callback(new Error('the relay connection is closed'));
      ws.send(chunk, { binary: true }, (err) => callback(err ?? null));
    },
    final(callback) {
      sendControl(ws, { t: 'end' });
      callback();
    },
    destroy(err, callback) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
        ws.close(err ? RELAY_FAILED : RELAY_DONE, err ? truncate(err.message) : '');
      }
      callback(null);
    },
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      if (!stream.push(bytes(data))) ws.pause();
      return;
    }
    let message: RelayControl;
    try {
      message = JSON.parse(bytes(data).toString('utf8')) as RelayControl;
    } catch {
      return void stream.destroy(new Error('malformed relay control message'));
    }
    if (message.t === 'end') {
      farEnded = true;
      stream.push(null);
    }
    else onControl(message);
  });
  ws.on('error', () => {});
  ws.once('close', () => {
    if (stream.destroyed) return;
    // A far side that ended first closed cleanly: what it sent is still to be read here.
    if (farEnded) {
      if (!stream.writableEnded) stream.end();
    } else stream.destroy();
  });
  return stream;
}

export function sendControl(ws: WebSocket, message: RelayControl): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}
