import { spacePaths } from '../state/space-view.js';

/**
 * Opens a separate window (not a tab) for a desktop or terminal, reusing it when the same space's
 * window is already open (the window name), so a second click brings it forward.
 */
export function openWindow(url: string, name: string, size: { width: number; height: number }): Window | null {
  const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - size.width) / 2));
  const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - size.height) / 2));
  const opened = window.open(url, name, `popup,width=${size.width},height=${size.height},left=${left},top=${top}`);
  opened?.focus();
  return opened;
}

export function openTerminal(spaceId: string, options: { vscodeTunnel?: boolean } = {}): Window | null {
  const url = spacePaths.terminal(spaceId) + (options.vscodeTunnel ? '?vscode-tunnel=1' : '');
  return openWindow(url, `knot-terminal-${spaceId}${options.vscodeTunnel ? '-tunnel' : ''}`, { width: 960, height: 600 });
}
