/**
 * What the automatic-lifecycle tests share: the fields they read, a subscription of them, and
 * wall-clock helpers for schedule windows (times with seconds, so a window can end in seconds).
 */
import { DateTime } from 'luxon';
import type { GraphQLTestClient, Subscription } from '../helpers/graphql.js';

export const AUTO_FIELDS = `id name status autoStopAt autoStopReason autoStopWarning stoppedReason lastActivityAt`;

export interface AutoView {
  id: string;
  name: string;
  status: string;
  autoStopAt: string | null;
  autoStopReason: 'SCHEDULE' | 'MAX_UPTIME' | 'IDLE' | null;
  autoStopWarning: boolean;
  stoppedReason: 'SCHEDULE' | 'MAX_UPTIME' | 'IDLE' | null;
  lastActivityAt: string | null;
}
export type AutoChange = { spaceChanged: { kind: string; space: AutoView | null } };

export const KEEP = `mutation($id: ID!) { keepSpaceRunning(id: $id) { ${AUTO_FIELDS} } }`;
export const START = `mutation($id: ID!) { startSpace(id: $id) { ${AUTO_FIELDS} } }`;
export const AUDIT = `{ auditLog(first: 200) { entries { actorId actorName action objectId details } } }`;

/** Subscribes to a space's automatic-lifecycle fields and waits for the SNAPSHOT. */
export async function watchAuto(client: GraphQLTestClient, id: string): Promise<Subscription<AutoChange>> {
  const sub = client.subscribe<AutoChange>(`subscription($id: ID!) { spaceChanged(id: $id) { kind space { ${AUTO_FIELDS} } } }`, { id });
  await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
  return sub;
}

/** The wall-clock time ("HH:MM:SS") and weekday ("MONDAY") of a moment in a zone. */
export function wallClock(at: number, zone: string): { time: string; day: string } {
  const local = DateTime.fromMillis(at, { zone });
  return { time: local.toFormat('HH:mm:ss'), day: local.toFormat('cccc').toUpperCase() };
}

export const secondsBetween = (a: string | number, b: string | number) => (new Date(b).getTime() - new Date(a).getTime()) / 1000;
