import type { Db } from '../db.js';
import type { Logger } from '../logger.js';
import type { ReplicaRegistry } from '../replicas/registry.js';
import type { TerminalBackend, TerminalSize } from './backend.js';
import { SessionRecords, type SessionElsewhere } from './session-records.js';
import { TerminalSession, type TerminalSessionInfo } from './session.js';

/** How often rows left by replicas that died are looked for. */
const SWEEP_MS = 60_000;

/**
 * The terminal sessions this server process holds, by id. They live in memory: a restart of Knot
 * ends them (the shells are hung up, as when a window closes). Each is recorded in Postgres
 * (`terminal_sessions`) with this replica's id, so a browser that reconnects through another
 * replica is relayed here, or, if this replica died, the other resumes the shell the space's
 * agent kept (manual spaces).
 */
export class TerminalSessions {
  private readonly sessions = new Map<string, TerminalSession>();
  private readonly records: SessionRecords;
  private readonly sweeper: NodeJS.Timeout;
  /** Rows of ended sessions being deleted: shutdown waits for them before the database closes. */
  private readonly forgetting = new Set<Promise<void>>();

  constructor(
    db: Db,
    registry: ReplicaRegistry,
    private readonly detachMs: number,
    private readonly perSpace: number,
    private readonly log: Logger,
  ) {
    this.records = new SessionRecords(db, registry, detachMs);
    this.sweeper = setInterval(() => void this.records.sweep().catch((err) => log.warn({ err }, 'could not sweep the terminal sessions of dead replicas')), SWEEP_MS);
    this.sweeper.unref();
  }

  /** A new session, recorded before its id is handed out (a reconnect through another replica must find it). */
  async create(spaceId: string, userId: string, backend: TerminalBackend, size: TerminalSize): Promise<TerminalSession> {
    const session = this.hold(new TerminalSession(spaceId, userId, backend, size, this.detachMs, this.log, (ended) => this.ended(ended)));
    await this.records.record(session.id, spaceId, userId, backend.keep).catch((err) => this.log.warn({ err }, 'could not record a terminal session: only this replica will find it'));
    return session;
  }

  /** A dead replica's session, taken over here (records.takeOver) with its id and output position. */
  adopt(taken: SessionElsewhere, spaceId: string, userId: string, backend: TerminalBackend, size: TerminalSize, origin: number): TerminalSession {
    return this.hold(new TerminalSession(spaceId, userId, backend, size, this.detachMs, this.log, (ended) => this.ended(ended), taken.id, origin));
  }

  /** Where a session this replica does not hold lives (SessionRecords). */
  get elsewhere(): Pick<SessionRecords, 'locate' | 'takeOver' | 'forgetDead'> {
    return this.records;
  }

  private hold(session: TerminalSession): TerminalSession {
    this.sessions.set(session.id, session);
    return session;
  }

  private ended(session: TerminalSession) {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    this.log.info({ spaceId: session.spaceId, userId: session.userId, session: session.id.slice(0, 6) }, 'terminal session ended');
    const forgetting = this.records.forget(session.id).catch((err) => this.log.warn({ err }, 'could not remove an ended terminal session\'s row'));
    this.forgetting.add(forgetting);
    void forgetting.finally(() => this.forgetting.delete(forgetting));
  }

  /**
   * Whether the user may open another session in the space. At the limit the oldest detached one
   * is ended to make room (a forgotten tab); when every one is attached, the answer is no.
   */
  makeRoom(spaceId: string, userId: string): boolean {
    const held = [...this.sessions.values()].filter((s) => s.spaceId === spaceId && s.userId === userId);
    if (held.length < this.perSpace) return true;
    const oldestDetached = held
      .map((s) => ({ s, detachedAt: s.info().detachedAt }))
      .filter((x) => x.detachedAt)
      .sort((a, b) => a.detachedAt!.getTime() - b.detachedAt!.getTime())[0];
    oldestDetached?.s.end(1000, 'The terminal session was ended to make room for a new one.');
    return !!oldestDetached;
  }

  /** The session, only for the user and space it was opened by: anyone else's id is as good as unknown. */
  find(id: string, spaceId: string, userId: string): TerminalSession | null {
    const session = this.sessions.get(id);
    return session && session.spaceId === spaceId && session.userId === userId ? session : null;
  }

  list(spaceId: string, userId: string): TerminalSessionInfo[] {
    return [...this.sessions.values()]
      .filter((s) => s.spaceId === spaceId && s.userId === userId)
      .map((s) => s.info())
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** Ends one session; false when there is none by that id for this user and space. */
  close(id: string, spaceId: string, userId: string): boolean {
    const session = this.find(id, spaceId, userId);
    session?.end();
    return !!session;
  }

  /** The users holding sessions in a space. */
  usersIn(spaceId: string): Set<string> {
    return new Set([...this.sessions.values()].filter((s) => s.spaceId === spaceId).map((s) => s.userId));
  }

  /** Ends every session of one user in one space (the space was unshared from them, or changed hands). */
  endFor(spaceId: string, userId: string, code: number, reason: string) {
    for (const session of [...this.sessions.values()]) {
      if (session.spaceId === spaceId && session.userId === userId) session.end(code, reason);
    }
  }

  /** At shutdown: every shell is hung up rather than left running unreachable in its space. */
  async closeAll(reason: string): Promise<void> {
    clearInterval(this.sweeper);
    for (const session of [...this.sessions.values()]) session.end(1001, reason);
    await Promise.all([...this.forgetting]);
  }
}
