import { Transform, type TransformCallback } from 'node:stream';

/**
 * Just enough of the telnet protocol to drive busybox `telnetd -i` as a pty allocator: escape 0xFF
 * going in, strip option negotiation coming out, and send the window size with NAWS. (telnetd
 * turns CR LF and CR NUL typed into the terminal into CR, as telnet clients expect; terminals
 * send CR for Enter, so this matters only for pasted binary.)
 */
const IAC = 255;
const SB = 250;
const SE = 240;
const WILL = 251;
const DONT = 254;
const NAWS = 31;

/** IAC SB NAWS <cols16> <rows16> IAC SE, with any 0xFF byte in the sizes doubled. */
export function nawsFrame(cols: number, rows: number): Buffer {
  const size = [cols >> 8, cols & 0xff, rows >> 8, rows & 0xff].flatMap((b) => (b === IAC ? [IAC, IAC] : [b]));
  return Buffer.from([IAC, SB, NAWS, ...size, IAC, SE]);
}

/** Bytes for the pty: a literal 0xFF must be sent as IAC IAC. */
export class TelnetEncoder extends Transform {
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!chunk.includes(IAC)) return callback(null, chunk);
    const out: number[] = [];
    for (const byte of chunk) {
      out.push(byte);
      if (byte === IAC) out.push(IAC);
    }
    callback(null, Buffer.from(out));
  }
}

type State = 'data' | 'iac' | 'option' | 'sb' | 'sb-iac';

/** The pty's output without telnet commands; IAC IAC becomes one 0xFF. */
export class TelnetDecoder extends Transform {
  private state: State = 'data';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    for (const byte of chunk) {
      switch (this.state) {
        case 'data':
          if (byte === IAC) this.state = 'iac';
          else out[n++] = byte;
          break;
        case 'iac':
          if (byte === IAC) {
            out[n++] = IAC;
            this.state = 'data';
          } else if (byte === SB) this.state = 'sb';
          else if (byte >= WILL && byte <= DONT) this.state = 'option';
          else this.state = 'data';
          break;
        case 'option':
          this.state = 'data';
          break;
        case 'sb':
          if (byte === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          this.state = byte === SE ? 'data' : 'sb';
          break;
      }
    }
    callback(null, n ? out.subarray(0, n) : undefined);
  }
}
