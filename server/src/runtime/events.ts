// A container event stream that survives engine restarts: when the connection drops it
// reports the error, reconnects with backoff, and asks the engine to replay what it missed.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Connection } from './connection.js';
import { labelFilter } from './container-spec.js';
import { readJsonLines } from './json-lines.js';
import type { ContainerEvent, EventWatch, WatchOptions } from './runtime.js';

// Attributes the engine mixes into a container event's labels.
const NOT_LABELS = new Set(['name', 'image', 'exitCode', 'execDuration', 'signal', 'execID', 'oldName']);
const MAX_BACKOFF_MS = 10_000;

interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export function parseEvent(raw: RawEvent, line: string): ContainerEvent | undefined {
  const id = raw.Actor?.ID;
  if (raw.Type !== 'container' || !id || !raw.Action) return undefined;
  const attributes = raw.Actor?.Attributes ?? {};
  const labels = Object.fromEntries(Object.entries(attributes).filter(([k]) => !NOT_LABELS.has(k)));
  // timeNano has 19 digits: JSON.parse would round it, so it is read from the text.
  const timeNano = BigInt(/"timeNano":(\d+)/.exec(line)?.[1] ?? '0');
  const exitCode = attributes.exitCode !== undefined ? Number(attributes.exitCode) : undefined;
  const colon = raw.Action.indexOf(':');
  const detail = colon >= 0 ? raw.Action.slice(colon + 1).trim() : '';
  return {
    containerId: id,
    name: attributes.name ?? '',
    image: attributes.image ?? '',
    action: (colon >= 0 ? raw.Action.slice(0, colon) : raw.Action).trim(),
    ...(detail ? { detail } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    labels,
    timeNano,
  };
}

function sinceParam(timeNano: bigint): string {
  const ns = (timeNano % 1_000_000_000n).toString().padStart(9, '0');
  return `${timeNano / 1_000_000_000n}.${ns}`;
}

export function watchContainerEvents(
  conn: Connection,
  onEvent: (e: ContainerEvent) => void,
  opts: WatchOptions = {},
): EventWatch {
  const closing = new AbortController();
  let stream: Readable | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let lastSeen: bigint | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const deliver = (raw: unknown, line: string) => {
    const event = parseEvent(raw as RawEvent, line);
    if (!event) return;
    // After a reconnect the engine replays from `since`, inclusive: skip what we delivered.
    if (lastSeen !== undefined && event.timeNano <= lastSeen) return;
    lastSeen = event.timeNano;
    try {
      onEvent(event);
    } catch (err) {
      // A listener's bug is not a broken connection: surface it as Node would for an emitter.
      setImmediate(() => {
        throw err;
      });
    }
  };

  const broke = (err: unknown) => {
    stream = undefined;
    if (closing.signal.aborted) return;
    opts.onError?.(conn.unavailable(err));
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** failures++);
    retryTimer = setTimeout(connect, delay);
  };

  const connect = async () => {
    const filters = { type: ['container'], ...labelFilter(opts.labels) };
    const query: Record<string, string> = { filters: JSON.stringify(filters) };
    if (lastSeen !== undefined) query.since = sinceParam(lastSeen);
    let events: Readable;
    try {
      events = (await conn.call(
        'watch events',
        (signal) => // `since` may be fractional; the engine takes it as a string.
          conn.docker.getEvents({ ...query, abortSignal: signal } as Docker.GetEventsOptions),
        { signal: closing.signal },
      )) as Readable;
    } catch (err) {
      broke(err);
      return;
    }
    if (closing.signal.aborted) {
      events.destroy();
      return;
    }
    stream = events;
    if (failures > 0) opts.onReconnect?.();
    failures = 0;
    markReady();
    // The engine only ends this stream when it shuts down, so an end is a break too.
    readJsonLines(events, deliver).then(
      () => broke(new Error('the engine closed the event stream')),
      broke,
    );
  };

  void connect();
  return {
    ready,
    close() {
      closing.abort();
      clearTimeout(retryTimer);
      stream?.destroy();
      stream = undefined;
      markReady();
    },
  };
}
