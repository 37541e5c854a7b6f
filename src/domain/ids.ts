// Typed, prefixed, time-sortable ids (evt_, ep_, msg_, key_): the only place ids are made.
import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

export type IdPrefix = 'evt' | 'ep' | 'msg' | 'key' | 'rcv';

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${nextUlid(now)}`;
}
