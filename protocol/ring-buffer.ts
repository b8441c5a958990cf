/**
 * The last `capacity` bytes of a terminal's output, for replay when someone reattaches (to a
 * server session, or to a shell an agent kept through a lost connection). Appending
 * copies the chunk once into a fixed buffer (no allocation, no list to trim), so the keystroke
 * echo path pays only that copy. Positions count every byte ever appended, so a client that knows
 * how far it got can ask for just the rest.
 */
export class RingBuffer {
  private readonly bytes: Buffer;
  /** Bytes appended since the start: the position of the next byte. */
  private total = 0;

  /**
   * `origin`: the position of the first byte appended, for a buffer that continues output counted
   * elsewhere (a session taken over from another replica goes on from where the browser got to).
   */
  constructor(
    readonly capacity: number,
    private readonly origin = 0,
  ) {
    this.bytes = Buffer.allocUnsafe(capacity);
    this.total = origin;
  }

  get end(): number {
    return this.total;
  }

  /** The position of the oldest byte still held. */
  get start(): number {
    return Math.max(this.origin, this.total - this.capacity);
  }

  append(chunk: Buffer) {
    const kept = chunk.length > this.capacity ? chunk.subarray(chunk.length - this.capacity) : chunk;
    const at = (this.total + chunk.length - kept.length) % this.capacity;
    const first = Math.min(kept.length, this.capacity - at);
    kept.copy(this.bytes, at, 0, first);
    if (first < kept.length) kept.copy(this.bytes, 0, first);
    this.total += chunk.length;
  }

  /** The bytes from `position` (clamped to what is held) to the end, with the position they start at. */
  since(position = 0): { start: number; bytes: Buffer } {
    const from = Math.min(Math.max(position, this.start), this.total);
    const length = this.total - from;
    const at = from % this.capacity;
    if (at + length <= this.capacity) return { start: from, bytes: Buffer.from(this.bytes.subarray(at, at + length)) };
    return { start: from, bytes: Buffer.concat([this.bytes.subarray(at), this.bytes.subarray(0, length - (this.capacity - at))]) };
  }
}
