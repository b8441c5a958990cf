import type { Space, SpacePort, SpaceStatus } from '../api/types.js';

/** The word next to `Status`, as the guide spells it. */
export const STATUS_LABELS: Record<SpaceStatus, string> = {
  STOPPED: 'Stopped',
  STARTING: 'Starting',
  RUNNING: 'Running',
  STOPPING: 'Stopping',
  DELETING: 'Deleting',
  FAILED: 'Failed',
};

export type SpaceAction = 'start' | 'stop' | 'restart' | 'edit' | 'delete' | 'ssh' | 'agent' | 'keep' | 'share' | 'transfer';

export interface MenuEntry {
  action: SpaceAction | null;
  label: string;
  disabled?: boolean;
  danger?: boolean;
}

/**
 * The space menu for the state the space is in. While an action is in flight (`pending`), or the
 * space is between states, the menu reads "Starting"/"Stopping" in place of the action, as the
 * guide describes. Manual spaces never offer Start: their agent starts them (Agent Setup gives
 * the machine its token, and only to the owner: `viewerId` is who is looking). A user the space is
 * only shared with starts and stops it but does not edit, delete, share or hand it over; only the
 * owner shares it; the owner and `managesSpaces` (MANAGE_SPACES) hand it over.
 */
export function spaceMenu(space: Space, pending: SpaceAction | null = null, viewerId: string | null = null, managesSpaces = false): MenuEntry[] {
  const manual = space.template.platform === 'MANUAL';
  const owns = viewerId !== null && space.owner.id === viewerId;
  const sharedOnly = isSharedWithMe(space, viewerId) && !managesSpaces;
  const entries: MenuEntry[] = [];
  const starting = space.status === 'STARTING' || pending === 'start' || pending === 'restart';
  const stopping = space.status === 'STOPPING' || pending === 'stop';
  if (space.status === 'DELETING' || pending === 'delete') return [{ action: null, label: 'Deleting', disabled: true }];

  if (starting) entries.push({ action: null, label: 'Starting', disabled: true });
  else if (stopping) entries.push({ action: null, label: 'Stopping', disabled: true });
  else if ((space.status === 'STOPPED' || space.status === 'FAILED') && !manual) entries.push({ action: 'start', label: 'Start' });
  else if (space.status === 'RUNNING') {
    if (!manual) {
      entries.push({ action: 'stop', label: 'Stop' });
      entries.push({ action: 'restart', label: 'Restart' });
    }
  }
  if (!sharedOnly) entries.push({ action: 'edit', label: 'Edit' });
  if (owns) entries.push({ action: 'share', label: 'Share' });
  if ((owns || managesSpaces) && !pending) entries.push({ action: 'transfer', label: 'Transfer' });
  // A manual space is whatever machine runs the agent: this is how it gets its token. The agent acts
  // as the owner, so the server refuses anyone else (an admin too) and the menu does not offer it.
  if (manual && space.owner.id === viewerId) entries.push({ action: 'agent', label: 'Agent Setup' });
  if (space.status === 'RUNNING' && space.services.ssh) entries.push({ action: 'ssh', label: 'SSH Info' });
  if ((space.status === 'STOPPED' || space.status === 'FAILED') && !pending && !sharedOnly) entries.push({ action: 'delete', label: 'Delete', danger: true });
  return entries;
}

/** Someone else's space that its owner shared with the viewer. */
export function isSharedWithMe(space: Pick<Space, 'owner' | 'sharedWith'>, viewerId: string | null): boolean {
  return viewerId !== null && space.owner.id !== viewerId && space.sharedWith.some((u) => u.id === viewerId);
}

/** A space changes hands only while nothing runs in it; null when it may be handed over now. */
export function whyNotTransferable(space: Pick<Space, 'name' | 'status'>): string | null {
  if (space.status === 'STOPPED' || space.status === 'FAILED') return null;
  return `${space.name} is ${space.status.toLowerCase()}: stop it first. Only a stopped space can be handed to someone else.`;
}

/** HTTP(S) ports with a URL open in the browser (solid); the rest are for `knot forward` (outlined). */
export function splitPorts(ports: readonly SpacePort[]): { web: SpacePort[]; forward: SpacePort[] } {
  const web = ports.filter((p) => p.protocol !== 'TCP' && !!p.url);
  const forward = ports.filter((p) => !web.includes(p));
  return { web, forward };
}

/**
 * A port URL on Knot's own address is opened on the address this page came from instead: Knot
 * may be reached under another name than its configured KNOT_URL (an IP, a tunnel). URLs on the
 * wildcard domain stay as they are.
 */
export function localUrl(url: string, serverUrl: string | null | undefined): string {
  if (!serverUrl) return url;
  try {
    const target = new URL(url);
    return target.origin === new URL(serverUrl).origin ? target.pathname + target.search + target.hash : url;
  } catch {
    return url;
  }
}

export function forwardPortCommand(spaceName: string, port: number): string {
  return `knot forward port ${port} ${spaceName} ${port}`;
}

export function sshCommand(spaceName: string): string {
  return `ssh -o ProxyCommand="knot forward ssh %n" ${spaceName}`;
}

/** Paths the Knot server proxies into a running space. */
export const spacePaths = {
  desktop: (id: string) => `/spaces/${id}/desktop/`,
  codeServer: (id: string) => `/spaces/${id}/code-server/`,
  terminal: (id: string) => `/terminal/${id}`,
  vscode: (tunnelName: string) => `https://vscode.dev/tunnel/${encodeURIComponent(tunnelName)}`,
};
