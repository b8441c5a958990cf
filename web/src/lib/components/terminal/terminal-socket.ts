/**
 * The terminal protocol of `/spaces/<id>/terminal`: binary frames are terminal bytes both ways,
 * text frames are JSON control messages ({"type":"resize","cols":..,"rows":..}). The server closes
 * with 1000 when the shell exits and 4000+HTTP status with a reason when it refuses.
 */
export interface TerminalSocketEvents {
  onOpen(): void;
  onOutput(bytes: Uint8Array): void;
  onClose(reason: string, code: number): void;
}

export function terminalUrl(location: { protocol: string; host: string }, spaceId: string, cols: number, rows: number): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/spaces/${encodeURIComponent(spaceId)}/terminal?cols=${cols}&rows=${rows}`;
}

export function resizeMessage(cols: number, rows: number): string {
  return JSON.stringify({ type: 'resize', cols, rows });
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
      if (event.data instanceof ArrayBuffer) events.onOutput(new Uint8Array(event.data));
      else events.onOutput(this.encoder.encode(String(event.data)));
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

  close() {
    this.ws.close(1000, 'Window closed');
  }
}
