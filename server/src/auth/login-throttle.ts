/**
 * Slows password guessing down without letting anyone lock a user out by name.
 *
 * Two counters, both kept in this process (with replicas, each counts on its own):
 *  - per account *and* address (`username|address`): five free tries, then a wait of thirty seconds
 *    that doubles with each failure, up to fifteen minutes. Keyed with the address, so an attacker elsewhere cannot
 *    lock the real user out: only their own address waits.
 *  - per address: thirty free failures, then the same doubling, across every username, so one
 *    address cannot spray guesses over many accounts (or many usernames at one account).
 *
 * The attempt is reserved (counted as a failure) before the password is hashed, synchronously, so
 * concurrent requests see each other: thirty at once get five checks, not thirty. A success gives
 * back its reservation. Unknown usernames are counted exactly like known ones, so the throttle's
 * answer says nothing about which usernames exist.
 */
const FREE_PER_ACCOUNT = 5;
const FREE_PER_ADDRESS = 30;
/**
 * The first wait. Long enough that a burst of guesses cannot outlast it (a one-second wait let a
 * sixth of thirty "concurrent" guesses through whenever the burst took a second to arrive), short
 * enough for a person who mistyped five times.
 */
const FIRST_WAIT_MS = 30_000;
const MAX_WAIT_MS = 15 * 60_000;
/** Forgotten after this long without a failure, so memory stays bounded and old typos expire. */
const FORGET_AFTER_MS = 2 * MAX_WAIT_MS;
const SWEEP_ABOVE = 20_000;

interface Counter {
  failures: number;
  lastAt: number;
}

export function waitMs(counter: Counter | undefined, free: number, now: number): number {
  if (!counter || counter.failures < free) return 0;
  const wait = Math.min(FIRST_WAIT_MS * 2 ** Math.min(counter.failures - free, 30), MAX_WAIT_MS);
  return Math.max(0, counter.lastAt + wait - now);
}

export type Reservation = { ok: true; succeeded(): void } | { ok: false; waitMs: number };

export class LoginThrottle {
  private accounts = new Map<string, Counter>();
  private addresses = new Map<string, Counter>();
  private secondFactors = new Map<string, Counter>();

  /**
   * Guesses at a user's TOTP or recovery code (at login, or confirming or turning it off). Keyed by
   * the user alone, not the address: only someone who already has the password (or a session) gets
   * this far, so nobody can lock a stranger out with it, and guesses spread over many addresses
   * still count together. Five free tries, then the same doubling wait as passwords.
   */
  reserveSecondFactor(userId: string, now = Date.now()): Reservation {
    const counter = this.live(this.secondFactors, userId, now);
    const wait = waitMs(counter, FREE_PER_ACCOUNT, now);
    if (wait > 0) return { ok: false, waitMs: wait };
    this.count(this.secondFactors, userId, now);
    return { ok: true, succeeded: () => void this.secondFactors.delete(userId) };
  }

  reserve(username: string, address: string, now = Date.now()): Reservation {
    const accountKey = `${username.toLowerCase()}|${address}`;
    const account = this.live(this.accounts, accountKey, now);
    const perAddress = this.live(this.addresses, address, now);
    const wait = Math.max(waitMs(account, FREE_PER_ACCOUNT, now), waitMs(perAddress, FREE_PER_ADDRESS, now));
    if (wait > 0) return { ok: false, waitMs: wait };
    this.count(this.accounts, accountKey, now);
    this.count(this.addresses, address, now);
    return {
      ok: true,
      succeeded: () => {
        this.accounts.delete(accountKey);
        const counter = this.addresses.get(address);
        if (counter) counter.failures = Math.max(0, counter.failures - 1);
      },
    };
  }

  private live(map: Map<string, Counter>, key: string, now: number): Counter | undefined {
    const counter = map.get(key);
    if (counter && now - counter.lastAt > FORGET_AFTER_MS) {
      map.delete(key);
      return undefined;
    }
    return counter;
  }

  private count(map: Map<string, Counter>, key: string, now: number) {
    const counter = map.get(key);
    if (counter) {
      counter.failures++;
      counter.lastAt = now;
      return;
    }
    if (map.size >= SWEEP_ABOVE) for (const [k, c] of map) if (now - c.lastAt > FORGET_AFTER_MS) map.delete(k);
    map.set(key, { failures: 1, lastAt: now });
  }
}
