/**
 * The terminal protocol of `/spaces/<id>/terminal`: binary frames are terminal bytes both ways,
 * text frames are JSON control messages ({"type":"resize","cols":..,"rows":..}). The server's first
 * text frame names the session ({"session":"<id>","position":n}, n being where the output that
 * follows starts); `?session=<id>&from=<position>` reattaches and replays only what was missed.
 * The server closes with 1000 when the shell exits or the session ends, 4410 for a session that
 * has ended, and 4000+HTTP status with a reason when it refuses.
 */
export interface TerminalSocketEvents {
  onOpen(): void;
  onSession(id: string, position: number): void;
  onOutput(bytes: Uint8Array): void;
  onClose(reason: string, code: number): void;
}

/** A session to reattach to, and the output position the client already shows (absent: replay everything held). */
export interface Reattach {
  session: string;
  from?: number;
}

export function terminalUrl(location: { protocol: string; host: string }, spaceId: string, cols: number, rows: number, reattach?: Reattach): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  let url = `${scheme}://${location.host}/spaces/${encodeURIComponent(spaceId)}/terminal?cols=${cols}&rows=${rows}`;
  if (reattach) url += `&session=${encodeURIComponent(reattach.session)}`;
  if (reattach?.from !== undefined) url += `&from=${reattach.from}`;
  return url;
}

export function resizeMessage(cols: number, rows: number): string {
  return JSON.stringify({ type: 'resize', cols, rows });
}

/** Closes after which the shell is still there and the page should reattach by itself. */
export function shouldReattach(code: number): boolean {
  // 1001: the server is going away; 1006: the network dropped; 1011-1014: the server or a proxy failed.
  return code === 1001 || code === 1006 || (code >= 1011 && code <= 1014);
}

/** What to tell the person when the socket closes. */
export function closeMessage(code: number, reason: string): string {
  if (reason) return reason;
  if (code === 1000) return 'The shell ended.';
  if (code === 1001) return 'Knot is restarting.';
  if (code === 1006) return 'The connection to Knot was lost.';
  return `The terminal closed (${code}).`;
}

export class TerminalSocket {
  private ws: WebSocket;
  private encoder = new TextEncoder();

  constructor(url: string, events: TerminalSocketEvents) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => events.onOpen();
    this.ws.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) return events.onOutput(new Uint8Array(event.data));
      try {
        const message = JSON.parse(String(event.data)) as { session?: unknown; position?: unknown };
        if (typeof message.session === 'string') events.onSession(message.session, Number(message.position) || 0);
      } catch {
        // A control message this page does not know: nothing to show.
      }
    };
    this.ws.onclose = (event) => events.onClose(closeMessage(event.code, event.reason), event.code);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Keystrokes as UTF-8 in a binary frame. */
  sendInput(data: string) {
    if (this.open) this.ws.send(this.encoder.encode(data));
  }

  /** Raw bytes xterm reports through onBinary (e.g. some mouse reports). */
  sendBinary(data: string) {
    if (!this.open) return;
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
    this.ws.send(bytes);
  }

  resize(cols: number, rows: number) {
    if (this.open) this.ws.send(resizeMessage(cols, rows));
  }

  /** Detaches: the shell keeps running on the server until it is reattached or expires. */
  close() {
    this.ws.onclose = null;
    this.ws.close(1000, 'Window closed');
  }
}
