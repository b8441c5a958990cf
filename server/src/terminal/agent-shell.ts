import type { AgentConnections } from '../agent-gateway/types.js';
import type { TerminalBackend, TerminalSize } from './backend.js';

/** Manual spaces have no Docker to exec into: their agent runs the pty. */
export async function openAgentShell(
  agents: AgentConnections,
  spaceId: string,
  shell: string,
  size: TerminalSize,
): Promise<TerminalBackend> {
  const pty = await agents.openShell(spaceId, { shell, cols: size.cols, rows: size.rows });
  return {
    output: pty.stream,
    input: pty.stream,
    resize: (cols, rows) => pty.resize(cols, rows),
    exited: pty.exited.catch(() => null),
    close: () => pty.close(),
  };
}
