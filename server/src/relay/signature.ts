import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header carrying a signed relay request; no browser or API client ever has one. */
export const RELAY_HEADER = 'x-knot-relay';
/** How long a signature is good for: enough for a slow handshake and some clock skew between replicas. */
const LIFETIME_MS = 30_000;

/** What one replica asks of another's agent, and for whom. */
export type RelayOpen =
  | { kind: 'dial'; port: number }
  | { kind: 'shell'; shell: string; cols: number; rows: number; keep?: string }
  | { kind: 'resume'; keep: string; from: number }
  /** A browser's terminal socket reattaching to a session this replica holds (terminal/remote.ts). */
  | { kind: 'session'; session: string; from?: number; cols?: number; rows?: number };

export interface RelayClaims {
  /** The replica the request is for: a signature cannot be replayed to another one. */
  to: string;
  from: string;
  spaceId: string;
  open: RelayOpen;
  /** The user the first replica authorized; logged by the replica that serves the stream. */
  by: string | null;
  /** Issued at (ms since the epoch). */
  iat: number;
  /** Makes every signature unique, so the receiving replica can refuse one seen before. */
  nonce: string;
}

function mac(secret: Buffer, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

export function signRelay(secret: Buffer, claims: Omit<RelayClaims, 'iat' | 'nonce'>, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ ...claims, iat: now, nonce: randomBytes(12).toString('base64url') })).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/**
 * The claims of a well-signed, fresh request for replica `self`, or why it is refused. Checks the
 * MAC (in constant time) before reading anything else.
 */
export function verifyRelay(secret: Buffer, header: string | undefined, self: string, now = Date.now()): RelayClaims | string {
  if (!header) return 'no signature';
  const [payload, signature, extra] = header.split('.');
  if (!payload || !signature || extra !== undefined) return 'malformed signature';
  const expected = mac(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
  let claims: RelayClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as RelayClaims;
  } catch {
    return 'malformed claims';
  }
  if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > LIFETIME_MS) return 'expired signature';
  if (claims.to !== self) return 'signed for another replica';
  return claims;
}

/** Nonces seen within the lifetime: a captured request cannot be played again. */
export class SeenNonces {
  private seen = new Map<string, number>();

  /** True the first time; false for a replay. */
  fresh(claims: RelayClaims, now = Date.now()): boolean {
    for (const [nonce, at] of this.seen) {
      if (now - at <= 2 * LIFETIME_MS) break;
      this.seen.delete(nonce);
    }
    if (typeof claims.nonce !== 'string' || this.seen.has(claims.nonce)) return false;
    this.seen.set(claims.nonce, now);
    return true;
  }
}
