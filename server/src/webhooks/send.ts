import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveTarget } from './url-guard.js';

/** One attempt's limits: a receiver gets this long to answer, and this much of its answer is kept. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
const RESPONSE_KEEP_BYTES = 1_024;
/** What is read of an answer at most before the connection is cut (the rest is of no use). */
const RESPONSE_READ_BYTES = 64 * 1_024;

export interface Outgoing {
  url: string;
  secret: string;
  deliveryId: string;
  event: string;
  body: string;
  allowPrivate: boolean;
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

/** `sha256=<hex>` of "<timestamp>.<body>": the timestamp is signed too, so an old body cannot be replayed as new. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs one delivery. The host is resolved and checked (url-guard.ts) inside the connection's own
 * lookup, so the socket connects to exactly the address that passed. Redirects are not followed
 * (a 3xx is a failed attempt): one could point at a private address.
 */
export async function sendOnce(out: Outgoing, timeoutMs = ATTEMPT_TIMEOUT_MS): Promise<AttemptResult> {
  const url = new URL(out.url);
  const timestamp = String(Math.floor(Date.now() / 1_000));
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(out.body)),
    'user-agent': 'Knot-Webhooks/1',
    'x-knot-event': out.event,
    'x-knot-delivery': out.deliveryId,
    'x-knot-timestamp': timestamp,
    'x-knot-signature': signature(out.secret, timestamp, out.body),
  };
  let checked: { address: string; family: 4 | 6 }[];
  try {
    checked = await resolveTarget(url, out.allowPrivate);
  } catch (err) {
    return { ok: false, statusCode: null, error: err instanceof Error ? err.message : String(err), responseBody: null };
  }
  // Hands the connection the addresses checked above (an IP literal host never asks for a lookup).
  const pinned = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, checked);
    else callback(null, checked[0]!.address, checked[0]!.family);
  }) as unknown as LookupFunction;

  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers, lookup: pinned, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        const done = () => {
          const statusCode = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).subarray(0, RESPONSE_KEEP_BYTES).toString('utf8');
          const ok = statusCode >= 200 && statusCode < 300;
          const redirect = statusCode >= 300 && statusCode < 400;
          finish({
            ok,
            statusCode,
            error: ok ? null : redirect ? `The receiver answered ${statusCode} (a redirect); Knot does not follow redirects.` : `The receiver answered ${statusCode}.`,
            responseBody: text || null,
          });
        };
        res.on('data', (chunk: Buffer) => {
          if (read < RESPONSE_KEEP_BYTES) chunks.push(chunk);
          read += chunk.length;
          if (read > RESPONSE_READ_BYTES) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish({ ok: false, statusCode: null, error: `The receiver did not answer within ${Math.round(timeoutMs / 1_000)} s.`, responseBody: null });
    }, timeoutMs);
    request.on('error', (err) => finish({ ok: false, statusCode: null, error: `Could not reach the receiver: ${err.message}`, responseBody: null }));
    request.end(out.body);
  });
}
