// Event matching through the API: which endpoints an event's deliveries go to (exact, prefix.*,
// prefix_*, *, users, subject), notify.email, and nothing for disabled or archived endpoints.
import { beforeAll, describe, expect, it } from 'vitest';
import { deliveryWithAttemptsSchema, eventWithDeliveriesSchema } from '../../src/http/schemas.js';
import { type EndpointView, createEndpoint, ingest } from '../support/api.js';
import { useHerald } from '../support/herald.js';

const herald = useHerald();
const HOOK = 'http://127.0.0.1:9/hook';

let ep: Record<'exact' | 'prefix' | 'under' | 'star' | 'users' | 'subject' | 'disabled' | 'archived', EndpointView>;
const name = new Map<string | null, string>();

beforeAll(async () => {
  const h = herald();
  ep = {
    exact: await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['m.job.completed'] }),
    prefix: await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['m.job.*'] }),
    under: await createEndpoint(h, { channel: 'discord', url: HOOK, events: ['m_job_*'] }),
    star: await createEndpoint(h, { channel: 'slack', url: HOOK, events: ['*'] }),
    users: await createEndpoint(h, { channel: 'discord', url: HOOK, events: ['m.*'], users: ['alice', 'bob'] }),
    subject: await createEndpoint(h, { channel: 'email', to: ['ops@example.com'], events: ['m.*'], subject: 'job-42' }),
    disabled: await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['*'] }),
    archived: await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['*'] }),
  };
  for (const [k, v] of Object.entries(ep)) name.set(v.id, k);
  name.set(null, 'notify');
  expect((await h.request('POST', `/v1/endpoints/${ep.disabled.id}/disable`)).status).toBe(200);
  expect((await h.request('DELETE', `/v1/endpoints/${ep.archived.id}`)).status).toBe(200);
});

/** Posts the event and returns the names of the endpoints its deliveries go to (sorted). */
async function targets(event: Record<string, unknown>): Promise<string[]> {
  const h = herald();
  const answer = await ingest(h, event);
  const fromAnswer = answer.deliveries.map((d) => name.get(d.endpoint_id) ?? d.endpoint_id ?? '?').sort();
  // the recorded event and the delivery list agree with the answer
  const got = eventWithDeliveriesSchema.parse((await h.request('GET', `/v1/events/${answer.id}`)).body);
  expect(got.deliveries.map((d) => d.id).sort()).toEqual(answer.deliveries.map((d) => d.id).sort());
  const listed = await h.request<{ data: Array<{ id: string; event_id: string }> }>('GET', `/v1/deliveries?event_id=${answer.id}`);
  expect(listed.body.data.map((d) => d.id).sort()).toEqual(answer.deliveries.map((d) => d.id).sort());
  return fromAnswer;
}

describe('event matching', () => {
  it('an exact type, its prefix.* and * match; users and subject filters do not without their values', async () => {
    expect(await targets({ type: 'm.job.completed', user: 'carol', subject: 'x' })).toEqual(['exact', 'prefix', 'star']);
  });

  it('prefix.* matches everything below the prefix but not a sibling or the prefix itself', async () => {
    expect(await targets({ type: 'm.job.gpu.oom' })).toEqual(['prefix', 'star']);
    expect(await targets({ type: 'm.jobs.completed' })).toEqual(['star']);
    expect(await targets({ type: 'm.job' })).toEqual(['star']);
  });

  it('prefix_* matches underscored types', async () => {
    expect(await targets({ type: 'm_job_failed' })).toEqual(['star', 'under']);
    expect(await targets({ type: 'm_jobs' })).toEqual(['star']);
  });

  it('a users filter takes only events of those users', async () => {
    expect(await targets({ type: 'm.job.failed', user: 'alice' })).toEqual(['prefix', 'star', 'users']);
    expect(await targets({ type: 'm.run.started', user: 'bob' })).toEqual(['star', 'users']);
    expect(await targets({ type: 'm.run.started', user: 'mallory' })).toEqual(['star']);
    expect(await targets({ type: 'm.run.started' })).toEqual(['star']);
  });

  it('a subject filter takes only events about that subject', async () => {
    expect(await targets({ type: 'm.run.done', subject: 'job-42' })).toEqual(['star', 'subject']);
    expect(await targets({ type: 'm.run.done', subject: 'job-43' })).toEqual(['star']);
    expect(await targets({ type: 'm.run.done', subject: 'job-42', user: 'bob' })).toEqual(['star', 'subject', 'users']);
  });

  it('* takes everything, including types no other filter knows', async () => {
    expect(await targets({ type: 'other:thing' })).toEqual(['star']);
  });

  it('notify.email adds an email delivery without an endpoint, to the event’s own recipients', async () => {
    const h = herald();
    const answer = await ingest(h, { type: 'n.job.failed', notify: { email: ['owner@example.com', 'owner@example.com', 'lead@example.com'] } });
    const adHoc = answer.deliveries.filter((d) => d.endpoint_id === null);
    expect(adHoc).toHaveLength(1);
    expect(adHoc[0]).toMatchObject({ channel: 'email', status: 'pending' });
    expect(answer.deliveries.map((d) => name.get(d.endpoint_id)).sort()).toEqual(['notify', 'star']);
    const d = deliveryWithAttemptsSchema.parse((await h.request('GET', `/v1/deliveries/${adHoc[0]!.id}`)).body);
    expect(d).toMatchObject({ endpoint_id: null, channel: 'email', event_id: answer.id, recipients: ['owner@example.com', 'lead@example.com'] });
  });

  it('notify.on limits the ad-hoc email to the types it names', async () => {
    const notify = { email: ['owner@example.com'], on: ['n.job.failed', 'n.run.*'] };
    expect(await targets({ type: 'n.job.failed', notify })).toEqual(['notify', 'star']);
    expect(await targets({ type: 'n.run.x', notify })).toEqual(['notify', 'star']);
    expect(await targets({ type: 'n.job.completed', notify })).toEqual(['star']);
  });

  it('disabled and archived endpoints get nothing; re-enabling takes effect at once', async () => {
    const h = herald();
    const answer = await ingest(h, { type: 'm.job.completed' });
    expect(answer.deliveries.map((d) => d.endpoint_id)).not.toContain(ep.disabled.id);
    expect(answer.deliveries.map((d) => d.endpoint_id)).not.toContain(ep.archived.id);
    for (const id of [ep.disabled.id, ep.archived.id]) {
      const r = await h.request<{ data: unknown[] }>('GET', `/v1/deliveries?endpoint_id=${id}`);
      expect(r.body.data).toEqual([]);
    }
    // enable, post, disable again: only the event in between reaches it
    expect((await h.request('POST', `/v1/endpoints/${ep.disabled.id}/enable`)).status).toBe(200);
    expect(await targets({ type: 'other.enabled' })).toEqual(['disabled', 'star']);
    expect((await h.request('POST', `/v1/endpoints/${ep.disabled.id}/disable`)).status).toBe(200);
    expect(await targets({ type: 'other.disabled' })).toEqual(['star']);
    // a filter changed by PATCH applies to the next event
    expect((await h.request('PATCH', `/v1/endpoints/${ep.exact.id}`, { body: { events: ['p.changed'] } })).status).toBe(200);
    expect(await targets({ type: 'p.changed' })).toEqual(['exact', 'star']);
    expect(await targets({ type: 'm.job.completed' })).toEqual(['prefix', 'star']);
  });
});
