import type { Logger } from '../logger.js';
import type { TerminalBackend, TerminalSize } from './backend.js';
import { TerminalSession, type TerminalSessionInfo } from './session.js';

/**
 * The terminal sessions this server process holds, by id. They live in memory: a restart of Knot
 * ends them (the shells are hung up, as when a window closes), and with several replicas a
 * session is reachable only through the replica that holds it (docs/architecture.md).
 */
export class TerminalSessions {
  private readonly sessions = new Map<string, TerminalSession>();

  constructor(
    private readonly detachMs: number,
    private readonly perSpace: number,
    private readonly log: Logger,
  ) {}

  create(spaceId: string, userId: string, backend: TerminalBackend, size: TerminalSize): TerminalSession {
    const session = new TerminalSession(spaceId, userId, backend, size, this.detachMs, this.log, (ended) => {
      this.sessions.delete(ended.id);
      this.log.info({ spaceId, userId, session: ended.id.slice(0, 6) }, 'terminal session ended');
    });
    this.sessions.set(session.id, session);
    return session;
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
  closeAll(reason: string) {
    for (const session of [...this.sessions.values()]) session.end(1001, reason);
  }
}
