// Event-filter matching: `*`, exact types, `prefix.*` / `prefix_*`, users and subject filters, and
// the deliveries an event plans (endpoints plus its own notify.email).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventFilterSchema, eventTypeSchema } from '../../src/domain/event.js';
import { type MatchableEndpoint, eventMatches, planDeliveries, typeFilterRange, typeMatches } from '../../src/domain/matching.js';

const segment = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,6}$/);
/** Event types as the schema accepts them: dotted or underscored segments. */
const eventType = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('.', '_'))
  .map(([parts, sep]) => parts.join(sep));

describe('typeMatches', () => {
  it.each([
    ['*', 'job.completed', true],
    ['*', 'x', true],
    ['job.completed', 'job.completed', true],
    ['job.completed', 'job.failed', false],
    ['job.completed', 'job.completed.late', false],
    ['job.*', 'job.completed', true],
    ['job.*', 'job.gpu.oom', true],
    ['job.*', 'job', false],
    ['job.*', 'job.', false],
    ['job.*', 'jobs.completed', false],
    ['job.*', 'job_completed', false],
    ['job.*', 'other.job.completed', false],
    ['job_*', 'job_failed', true],
    ['job_*', 'job.failed', false],
    ['job_*', 'job', false],
    ['delivery.exhausted', 'delivery.exhausted', true],
    ['Job.*', 'job.completed', false],
  ])('%s against %s → %s', (filter, type, expected) => {
    expect(typeMatches(filter, type)).toBe(expected);
  });

  it('the examples use filters and types the schemas accept', () => {
    for (const f of ['*', 'job.completed', 'job.*', 'job_*', 'Job.*']) expect(eventFilterSchema.safeParse(f).success).toBe(true);
    for (const f of ['*.job', 'job*', 'job.*.x', '']) expect(eventFilterSchema.safeParse(f).success).toBe(false);
  });

  it('`*` matches every type', () => {
    fc.assert(fc.property(eventType, (t) => typeMatches('*', t)));
  });

  it('an exact filter matches only that type', () => {
    fc.assert(fc.property(eventType, eventType, (f, t) => typeMatches(f, t) === (f === t)));
  });

  it('`prefix.*` matches exactly the types that continue the prefix after its dot', () => {
    fc.assert(
      fc.property(eventType, eventType, (prefix, t) => {
        expect(eventFilterSchema.safeParse(`${prefix}.*`).success).toBe(true);
        expect(typeMatches(`${prefix}.*`, t)).toBe(t.startsWith(`${prefix}.`));
      }),
    );
  });

  it('`prefix.*` matches everything built below the prefix, never the prefix itself or a look-alike', () => {
    fc.assert(
      fc.property(eventType, eventType, segment, (prefix, rest, extra) => {
        expect(typeMatches(`${prefix}.*`, `${prefix}.${rest}`)).toBe(true);
        expect(typeMatches(`${prefix}_*`, `${prefix}_${rest}`)).toBe(true);
        expect(typeMatches(`${prefix}.*`, prefix)).toBe(false);
        expect(typeMatches(`${prefix}.*`, `${prefix}${extra}.${rest}`)).toBe(false);
        expect(typeMatches(`${prefix}_*`, `${prefix}.${rest}`)).toBe(false);
      }),
    );
  });

  it('generated types are valid event types', () => {
    fc.assert(fc.property(eventType, (t) => eventTypeSchema.safeParse(t).success));
  });
});

describe('typeFilterRange (what a store looks up in an index)', () => {
  /** In the range as SQLite compares text (bytewise; types are ASCII, so UTF-16 order is the same). */
  const inRange = (filter: string, t: string) => {
    const r = typeFilterRange(filter);
    if (!r) return true;
    return 'exact' in r ? t === r.exact : r.above < t && t < r.below;
  };
  /** Any type the schema accepts, with every character it allows (`:`, `-`, capitals, `/`-adjacent `.`). */
  const anyType = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,12}$/);

  it('holds exactly the types the filter matches: `*`, exact, `prefix.*`, `prefix_*`', () => {
    fc.assert(
      fc.property(anyType, anyType, fc.constantFrom('', '.*', '_*'), (prefix, t, wildcard) => {
        const filter = `${prefix}${wildcard}`;
        expect(inRange(filter, t)).toBe(typeMatches(filter, t));
        expect(inRange(filter, `${prefix}${wildcard.slice(0, 1)}${t}`)).toBe(typeMatches(filter, `${prefix}${wildcard.slice(0, 1)}${t}`));
      }),
    );
    expect(inRange('*', 'anything')).toBe(true);
    expect(typeFilterRange('job.*')).toEqual({ above: 'job.', below: 'job/' });
    expect(typeFilterRange('job_*')).toEqual({ above: 'job_', below: 'job`' });
  });
});

describe('eventMatches', () => {
  const ev = { type: 'job.completed', user: 'alice', subject: 'job-42' };

  it('needs one of the type filters to match', () => {
    expect(eventMatches({ events: ['job.failed', 'job.*'] }, ev)).toBe(true);
    expect(eventMatches({ events: ['job.failed', 'run.*'] }, ev)).toBe(false);
  });

  it('a users list restricts to events of those users; an empty or absent list does not', () => {
    expect(eventMatches({ events: ['*'], users: ['bob', 'alice'] }, ev)).toBe(true);
    expect(eventMatches({ events: ['*'], users: ['bob'] }, ev)).toBe(false);
    expect(eventMatches({ events: ['*'], users: ['alice'] }, { ...ev, user: null })).toBe(false);
    expect(eventMatches({ events: ['*'], users: ['alice'] }, { type: 'job.completed' })).toBe(false);
    expect(eventMatches({ events: ['*'], users: [] }, { ...ev, user: null })).toBe(true);
    expect(eventMatches({ events: ['*'], users: null }, ev)).toBe(true);
  });

  it('a subject restricts to events about that subject', () => {
    expect(eventMatches({ events: ['*'], subject: 'job-42' }, ev)).toBe(true);
    expect(eventMatches({ events: ['*'], subject: 'job-43' }, ev)).toBe(false);
    expect(eventMatches({ events: ['*'], subject: 'job-42' }, { ...ev, subject: null })).toBe(false);
    expect(eventMatches({ events: ['*'], subject: null }, { ...ev, subject: null })).toBe(true);
  });

  it('is the conjunction of type, users and subject (property)', () => {
    const name = fc.constantFrom('alice', 'bob', 'carol');
    const subject = fc.constantFrom('job-1', 'job-2');
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('*', 'job.*', 'job_*', 'job.completed', 'run.*', 'job.failed'), { minLength: 1, maxLength: 3 }),
        fc.option(fc.array(name, { maxLength: 3 }), { nil: null }),
        fc.option(subject, { nil: null }),
        fc.constantFrom('job.completed', 'job.failed', 'job_failed', 'run.started', 'job'),
        fc.option(name, { nil: null }),
        fc.option(subject, { nil: null }),
        (events, users, subj, type, user, evSubject) => {
          const byType = events.some((f) => typeMatches(f, type));
          const byUser = !users || users.length === 0 || (user !== null && users.includes(user));
          const bySubject = subj === null || subj === evSubject;
          expect(eventMatches({ events, users, subject: subj }, { type, user, subject: evSubject })).toBe(byType && byUser && bySubject);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('planDeliveries', () => {
  const endpoints: MatchableEndpoint[] = [
    { id: 'ep_all', channel: 'webhook', events: ['*'] },
    { id: 'ep_jobs', channel: 'slack', events: ['job.*'] },
    { id: 'ep_alice', channel: 'email', events: ['*'], users: ['alice'] },
    { id: 'ep_42', channel: 'discord', events: ['job.completed'], subject: 'job-42' },
  ];

  it('a digest endpoint\'s delivery is held for the digest', () => {
    const plans = planDeliveries({ type: 'job.completed' }, [{ id: 'ep_d', channel: 'email', events: ['*'], digest: { cron: '0 * * * *' } }]);
    expect(plans).toEqual([{ endpoint_id: 'ep_d', channel: 'email', recipients: null, held: true }]);
  });

  it('one delivery per matching endpoint, in endpoint order', () => {
    const plans = planDeliveries({ type: 'job.completed', user: 'alice', subject: 'job-42' }, endpoints);
    expect(plans).toEqual([
      { endpoint_id: 'ep_all', channel: 'webhook', recipients: null, held: false },
      { endpoint_id: 'ep_jobs', channel: 'slack', recipients: null, held: false },
      { endpoint_id: 'ep_alice', channel: 'email', recipients: null, held: false },
      { endpoint_id: 'ep_42', channel: 'discord', recipients: null, held: false },
    ]);
    expect(planDeliveries({ type: 'run.started', user: 'bob' }, endpoints).map((p) => p.endpoint_id)).toEqual(['ep_all']);
    expect(planDeliveries({ type: 'x' }, [])).toEqual([]);
  });

  it('notify.email adds one email delivery without an endpoint, recipients deduplicated', () => {
    const plans = planDeliveries({ type: 'run.started', notify: { email: ['a@example.com', 'b@example.com', 'a@example.com'] } }, endpoints);
    expect(plans).toEqual([
      { endpoint_id: 'ep_all', channel: 'webhook', recipients: null, held: false },
      { endpoint_id: null, channel: 'email', recipients: ['a@example.com', 'b@example.com'], held: false },
    ]);
  });

  it('notify.on limits the ad-hoc email to matching types', () => {
    const notify = { email: ['a@example.com'], on: ['job.failed', 'run.*'] };
    expect(planDeliveries({ type: 'job.failed', notify }, []).length).toBe(1);
    expect(planDeliveries({ type: 'run.x', notify }, []).length).toBe(1);
    expect(planDeliveries({ type: 'job.completed', notify }, [])).toEqual([]);
    expect(planDeliveries({ type: 'job.completed', notify: null }, [])).toEqual([]);
  });

  it('plans exactly the endpoints eventMatches accepts, plus notify (property)', () => {
    const endpoint = fc.record({
      id: fc.uuid(),
      channel: fc.constantFrom('webhook', 'email', 'slack', 'discord'),
      events: fc.array(fc.constantFrom('*', 'job.*', 'job.completed', 'run.*'), { minLength: 1, maxLength: 2 }),
      users: fc.option(fc.array(fc.constantFrom('alice', 'bob'), { maxLength: 2 }), { nil: null }),
      subject: fc.option(fc.constantFrom('s1', 's2'), { nil: null }),
    });
    fc.assert(
      fc.property(
        fc.array(endpoint, { maxLength: 6 }),
        fc.constantFrom('job.completed', 'job.failed', 'run.started'),
        fc.option(fc.constantFrom('alice', 'bob'), { nil: null }),
        fc.option(fc.constantFrom('s1', 's2'), { nil: null }),
        fc.option(fc.record({ email: fc.array(fc.constantFrom('x@example.com', 'y@example.com'), { minLength: 1, maxLength: 3 }) }), { nil: null }),
        (eps, type, user, subject, notify) => {
          const event = { type, user, subject, notify };
          const plans = planDeliveries(event, eps);
          const expected = eps.filter((e) => eventMatches(e, event)).map((e) => e.id);
          expect(plans.filter((p) => p.endpoint_id !== null).map((p) => p.endpoint_id)).toEqual(expected);
          const adHoc = plans.filter((p) => p.endpoint_id === null);
          expect(adHoc.length).toBe(notify ? 1 : 0);
          if (notify) expect(new Set(adHoc[0]!.recipients)).toEqual(new Set(notify.email));
        },
      ),
      { numRuns: 300 },
    );
  });
});
