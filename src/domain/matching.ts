// Which endpoints an event goes to: type filters (`*`, exact, `prefix.*` / `prefix_*`), users, subject.
export interface EventFacts {
  type: string;
  user?: string | null | undefined;
  subject?: string | null | undefined;
}

export interface EndpointFilter {
  events: readonly string[];
  users?: readonly string[] | null | undefined;
  subject?: string | null | undefined;
}

/** A filter is `*`, an exact type, or a prefix ending in `.*` or `_*` that matches everything below it. */
export function typeMatches(filter: string, type: string): boolean {
  if (filter === '*') return true;
  if (filter.endsWith('.*') || filter.endsWith('_*')) {
    const prefix = filter.slice(0, -1); // keep the separator: `job.*` matches `job.x`, not `jobx` or `job`
    return type.length > prefix.length && type.startsWith(prefix);
  }
  return filter === type;
}

/**
 * The same filter as a range of types, for a store to look up in an index: `exact`, or every type t
 * with above < t < below (bytewise order; types are ASCII). `prefix.*` matches the types that start
 * with `prefix.` and are longer, which is the open range (`prefix.`, `prefix/`). null: `*`, any type.
 */
export function typeFilterRange(filter: string): { exact: string } | { above: string; below: string } | null {
  if (filter === '*') return null;
  if (filter.endsWith('.*') || filter.endsWith('_*')) {
    const prefix = filter.slice(0, -1);
    const last = prefix.charCodeAt(prefix.length - 1);
    return { above: prefix, below: prefix.slice(0, -1) + String.fromCharCode(last + 1) };
  }
  return { exact: filter };
}

export function eventMatches(filter: EndpointFilter, event: EventFacts): boolean {
  if (!filter.events.some((f) => typeMatches(f, event.type))) return false;
  if (filter.users && filter.users.length > 0) {
    if (event.user == null || !filter.users.includes(event.user)) return false;
  }
  if (filter.subject != null && filter.subject !== event.subject) return false;
  return true;
}

export interface MatchableEndpoint extends EndpointFilter {
  id: string;
  channel: 'webhook' | 'email' | 'slack' | 'discord';
  digest?: { cron: string } | null | undefined;
}

export interface PlannedDelivery {
  endpoint_id: string | null;
  channel: 'webhook' | 'email' | 'slack' | 'discord';
  recipients: string[] | null;
  /** Held for the endpoint's digest rather than sent on its own. */
  held: boolean;
}

/**
 * The deliveries an event creates: one per matching endpoint, plus one email to the event's own
 * `notify.email` recipients when its `on` filter (if any) matches the event's type.
 */
export function planDeliveries(
  event: EventFacts & { notify?: { email: string[]; on?: string[] | undefined } | null | undefined },
  endpoints: readonly MatchableEndpoint[],
): PlannedDelivery[] {
  const plans: PlannedDelivery[] = endpoints
    .filter((ep) => eventMatches(ep, event))
    .map((ep) => ({ endpoint_id: ep.id, channel: ep.channel, recipients: null, held: ep.digest != null }));
  const notify = event.notify;
  if (notify && notify.email.length > 0 && (!notify.on || notify.on.some((f) => typeMatches(f, event.type)))) {
    plans.push({ endpoint_id: null, channel: 'email', recipients: [...new Set(notify.email)], held: false });
  }
  return plans;
}
