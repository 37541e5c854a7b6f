// The console at /console: server-rendered pages (hono/jsx) over the same services as the API, signed
// in with an API key. Order: static files and sign-in first, then the session check (and CSRF check
// of every post), then the pages by section.
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { HeraldError } from '../domain/errors.js';
import { MATCH_KEYS, REQUEUABLE_STATUSES } from '../domain/requeue.js';
import type { Channel } from '../domain/endpoint.js';
import { PATCH_SCHEMAS, endpointInputSchema } from '../domain/endpoint.js';
import type { HttpDeps } from '../http/deps.js';
import { streamNdjson } from '../http/ndjson.js';
import { roleAllows } from '../services/api-keys.js';
import { assetRoutes } from './assets.js';
import { type ConsoleContext, type ConsoleEnv, ConsoleRefusal, can, endSession, formFields, needs, signedIn, startSession } from './auth.js';
import { checkForm, endpointInputFromForm } from './endpoint-form.js';
import { type DeliveryFilterInput, asParams, deliveryFilters, eventFilters, filterQuery, parseTime, readFilters, zoneOf } from './filters.js';
import { Page, type Section } from './layout.js';
import { DeliveriesPage, DeliveryPage, AttemptTimeline } from './pages/deliveries.js';
import { EndpointForm, fieldsOf } from './pages/endpoint-editor.js';
import { EndpointPage, EndpointsPage } from './pages/endpoints.js';
import { EventPage, EventsPage } from './pages/events.js';
import { LedgerPage } from './pages/ledger.js';
import { LoginForm } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { RequeueConfirmPage, RequeueJobPanel } from './pages/requeue.js';
import { requeueSchema } from '../services/requeue-jobs.js';
import { SessionSigner } from './session.js';

/** What an action's redirect says it did (a code in the URL, never text a link could forge). */
const DONE: Record<string, string> = {
  redelivered: 'Redelivery queued: the new attempt appears below.',
  enabled: 'The endpoint is enabled.',
  disabled: 'The endpoint is disabled.',
  tested: 'A herald.test event is on its way to this endpoint.',
  recovered: 'Failed and dead deliveries since then are queued again.',
  rotated: 'The secret was rotated; the previous one keeps signing during its grace period.',
  created: 'The endpoint was created.',
  saved: 'The changes were saved.',
};

/** A reason typed into a form (recorded in the ledger), or none. */
const reasonOf = (form: Record<string, string>) => form.reason?.trim().slice(0, 1000) || undefined;

/** A 422 naming what the API's schema found wrong. */
const notValid = (issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>) =>
  new HeraldError('validation', issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; '));

/** The largest form accepted (an endpoint with its templates is the largest). */
const FORM_LIMIT = 512 * 1024;

/** Where to go after signing in: a console page only. */
const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/console(\/[^/\\]|$|\?)/.test(next) && !/[\u0000-\u001f\u007f]/.test(next) ? next : '/console';

export function consoleRoutes(deps: HttpDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const signer = new SessionSigner(deps.sessionSecret);
  const now = () => deps.clock().getTime();

  const render = (c: ConsoleContext, title: string, section: Section, body: Child, status: 200 | 400 | 401 | 403 | 404 | 409 | 422 | 503 = 200) => {
    const done = c.req.query('done');
    return c.html(
      <Page title={title} section={section} principal={c.get('principal')} csrf={c.get('csrf')} flash={done ? DONE[done] : undefined}>
        {body}
      </Page>,
      status,
    );
  };

  app.onError((err, c) => {
    const status = err instanceof ConsoleRefusal || err instanceof HeraldError || err instanceof HTTPException ? err.status : 500;
    const message = err instanceof HTTPException && status === 403 ? 'This form did not come from the console.' : err instanceof ConsoleRefusal || err instanceof HeraldError ? err.message : 'Something went wrong; it has been logged.';
    if (status === 500) deps.log.error({ err }, 'console error');
    return c.html(
      <Page title={status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Error'} section={null} principal={c.get('principal')} csrf={c.get('csrf')}>
        <p class="error" role="alert">
          {message}
        </p>
        <p>
          <a href="/console">Back to the overview</a>
        </p>
      </Page>,
      status as 400,
    );
  });

  assetRoutes(app, '/static');
  // Posts must come from a console page (Origin check), besides carrying the session's CSRF token.
  app.use('*', csrf());
  app.use('*', bodyLimit({ maxSize: FORM_LIMIT, onError: () => { throw new HeraldError('payload_too_large', 'This form is too large.'); } }));

  app.get('/login', (c) => c.html(<Page title="Sign in" section={null}><LoginForm next={safeNext(c.req.query('next'))} /></Page>));
  app.post('/login', async (c) => {
    const form = await formFields(c);
    const key = typeof form.key === 'string' ? form.key.trim() : '';
    const principal = key ? await deps.apiKeys.authenticate(key) : null;
    const next = safeNext(form.next);
    if (!principal || !roleAllows(principal.role, 'read')) {
      const error = principal ? `The key "${principal.name}" has the ${principal.role} role, which cannot use the console.` : 'That API key is not valid (unknown or revoked).';
      return c.html(<Page title="Sign in" section={null}><LoginForm next={next} error={error} /></Page>, principal ? 403 : 401);
    }
    startSession(c, signer, deps.apiKeys.sessionKeyId(principal), now());
    return c.redirect(next, 303);
  });

  app.use('*', signedIn(signer, deps.apiKeys, deps.clock));
  app.post('/logout', (c) => {
    endSession(c);
    return c.redirect('/console/login', 303);
  });

  // Overview
  app.get('/', async (c) => render(c, 'Overview', 'overview', <OverviewPage o={await deps.activity.overview()} verified={deps.ledger.lastVerified} />));

  // Events
  app.get('/events', async (c) => {
    const f = readFilters(eventFilters, c.req.query());
    if (f.id) return c.redirect(`/console/events/${encodeURIComponent(f.id)}`, 303);
    let page;
    if (f.key) {
      const ids = await deps.events.idsByIdempotencyKey(f.key);
      page = { data: (await Promise.all(ids.map((id) => deps.events.get(id)))).map(({ deliveries: _d, ...e }) => e), next_cursor: null };
    } else {
      page = await deps.events.list({ type: f.type, subject: f.subject, user: f.user, since: parseTime(f.since, f.tz), until: parseTime(f.until, f.tz), limit: 50, cursor: f.cursor });
    }
    return render(c, 'Events', 'events', <EventsPage f={f} params={asParams(f)} page={page} />);
  });
  app.get('/events/:id', async (c) => render(c, `Event ${c.req.param('id')}`, 'events', <EventPage e={await deps.events.get(c.req.param('id'))} />));

  // Deliveries
  app.get('/deliveries', async (c) => {
    const f = readFilters(deliveryFilters, c.req.query());
    const page = await deps.deliveries.list({
      status: f.status, endpoint_id: f.endpoint_id, event_id: f.event_id, channel: f.channel, type: f.type,
      since: parseTime(f.since, f.tz), until: parseTime(f.until, f.tz), limit: 50, cursor: f.cursor,
    });
    return render(c, 'Deliveries', 'deliveries', <DeliveriesPage f={f} params={asParams(f)} page={page} canOperate={can(c, 'operate')} />);
  });
  // Retry all matching: the filters of the list (times already made absolute), a count, then the job.
  const requeueFilters = (f: DeliveryFilterInput) => {
    const absolute: Record<string, string | undefined> = { ...f, since: parseTime(f.since, f.tz), until: parseTime(f.until, f.tz) };
    return Object.fromEntries(MATCH_KEYS.filter((k) => absolute[k] !== undefined).map((k) => [k, absolute[k]!]));
  };
  app.get('/deliveries/requeue', needs('operate'), async (c) => {
    const f = readFilters(deliveryFilters, c.req.query());
    const filters = requeueFilters(f);
    const back = `/console/deliveries?${filterQuery(asParams(f))}`;
    // A requeue never touches queued or in-flight deliveries: a list filtered on those has nothing to retry.
    const untouchable = f.status !== undefined && !(REQUEUABLE_STATUSES as readonly string[]).includes(f.status);
    const parsed = requeueSchema.safeParse(filters);
    if (!untouchable && !parsed.success) throw notValid(parsed.error.issues);
    const count = untouchable || !parsed.success ? 0 : (await deps.requeue.count(parsed.data)).count;
    return render(c, 'Retry all matching', 'deliveries', <RequeueConfirmPage filters={filters} count={count} csrf={c.get('csrf')} back={back} />);
  });
  app.post('/deliveries/requeue', needs('operate'), async (c) => {
    const form = await formFields(c);
    const input = Object.fromEntries([...MATCH_KEYS, 'reason'].filter((k) => form[k]?.trim()).map((k) => [k, form[k]!.trim()]));
    const parsed = requeueSchema.safeParse(input);
    if (!parsed.success) throw notValid(parsed.error.issues);
    const job = await deps.requeue.start(c.get('principal'), parsed.data);
    return c.redirect(`/console/jobs/${job.id}`, 303);
  });
  app.get('/jobs/:id', async (c) => {
    const job = await deps.requeue.get(c.req.param('id'));
    if (c.req.query('fragment')) return c.html(<RequeueJobPanel job={job} />);
    return render(c, `Requeue job ${job.id}`, 'deliveries', <RequeueJobPanel job={job} />);
  });
  app.get('/deliveries/:id', async (c) => {
    const d = await deps.deliveries.get(c.req.param('id'));
    return render(c, `Delivery ${d.id}`, 'deliveries', <DeliveryPage d={d} csrf={c.get('csrf')} canOperate={can(c, 'operate')} />);
  });
  app.get('/deliveries/:id/attempts', async (c) => c.html(<AttemptTimeline d={await deps.deliveries.get(c.req.param('id'))} />));
  app.post('/deliveries/:id/redeliver', needs('operate'), async (c) => {
    const form = await formFields(c);
    const d = await deps.deliveries.redeliver(c.get('principal'), c.req.param('id'), { reason: reasonOf(form) });
    return c.redirect(`/console/deliveries/${d.id}?done=redelivered`, 303);
  });

  // Endpoints
  app.get('/endpoints', async (c) => {
    const channel = z.enum(['webhook', 'email', 'slack', 'discord']).optional().catch(undefined).parse(c.req.query('channel') || undefined);
    const archived = c.req.query('archived') === '1';
    const cursor = c.req.query('cursor') || undefined;
    const [page, rates] = await Promise.all([deps.endpoints.list({ channel, include_archived: archived, limit: 100, cursor }), deps.activity.successRates()]);
    return render(c, 'Endpoints', 'endpoints', <EndpointsPage page={page} rates={rates} params={{ channel, archived: archived ? '1' : undefined, cursor }} channel={channel} archived={archived} canAdmin={can(c, 'admin')} />);
  });
  app.get('/endpoints/new', needs('admin'), (c) => render(c, 'New endpoint', 'endpoints', <EndpointForm channel={null} f={{ events: '*', enabled: 'on' }} errors={{}} csrf={c.get('csrf')} action="/console/endpoints" editing={false} />));
  app.post('/endpoints', needs('admin'), async (c) => {
    const f = await formFields(c);
    const channel = (['webhook', 'email', 'slack', 'discord'] as const).find((ch) => ch === f.channel) ?? 'webhook';
    const checked = checkForm(endpointInputSchema, endpointInputFromForm(channel, f, false));
    if ('errors' in checked) {
      return render(c, 'New endpoint', 'endpoints', <EndpointForm channel={channel} f={f} errors={checked.errors} csrf={c.get('csrf')} action="/console/endpoints" editing={false} message="The endpoint is not valid: see the fields marked below." />, 422);
    }
    const created = await deps.endpoints.create(c.get('principal'), checked.data);
    return c.redirect(`/console/endpoints/${created.id}?done=created`, 303);
  });
  app.get('/endpoints/:id', async (c) => {
    const id = c.req.param('id');
    const [e, health] = await Promise.all([deps.endpoints.get(id), deps.activity.endpointHealth(id)]);
    return render(c, e.description ?? `Endpoint ${e.id}`, 'endpoints', <EndpointPage e={e} health={health} csrf={c.get('csrf')} canOperate={can(c, 'operate')} canAdmin={can(c, 'admin')} />);
  });
  app.get('/endpoints/:id/edit', needs('admin'), async (c) => {
    const e = await deps.endpoints.get(c.req.param('id'));
    return render(c, `Edit ${e.description ?? e.id}`, 'endpoints', <EndpointForm channel={e.channel} f={fieldsOf(e)} errors={{}} csrf={c.get('csrf')} action={`/console/endpoints/${e.id}/edit`} editing />);
  });
  app.post('/endpoints/:id/edit', needs('admin'), async (c) => {
    const e = await deps.endpoints.get(c.req.param('id'));
    const f = await formFields(c);
    const built = endpointInputFromForm(e.channel as Channel, f, true);
    // An exponential retry policy has no schedule to show: a blank schedule keeps it.
    if (!f.retry_schedule?.trim() && e.retry && !('schedule_s' in e.retry)) delete built.input.retry;
    const checked = checkForm(PATCH_SCHEMAS[e.channel as Channel], built);
    if ('errors' in checked) {
      return render(c, `Edit ${e.description ?? e.id}`, 'endpoints', <EndpointForm channel={e.channel as Channel} f={f} errors={checked.errors} csrf={c.get('csrf')} action={`/console/endpoints/${e.id}/edit`} editing message="The changes are not valid: see the fields marked below." />, 422);
    }
    await deps.endpoints.patch(c.get('principal'), e.id, checked.data);
    return c.redirect(`/console/endpoints/${e.id}?done=saved`, 303);
  });
  for (const action of ['enable', 'disable'] as const) {
    app.post(`/endpoints/:id/${action}`, needs('operate'), async (c) => {
      const form = await formFields(c);
      await deps.endpoints.setEnabled(c.get('principal'), c.req.param('id'), action === 'enable', { reason: reasonOf(form) });
      return c.redirect(`/console/endpoints/${c.req.param('id')}?done=${action}d`, 303);
    });
  }
  app.post('/endpoints/:id/test', needs('operate'), async (c) => {
    await deps.deliveries.test(c.get('principal'), c.req.param('id'));
    return c.redirect(`/console/endpoints/${c.req.param('id')}?done=tested`, 303);
  });
  app.post('/endpoints/:id/recover', needs('operate'), async (c) => {
    const form = await formFields(c);
    const since = parseTime(form.since?.trim(), zoneOf(form.tz));
    if (!since) throw new HeraldError('validation', 'Say since when to recover.');
    await deps.deliveries.recover(c.get('principal'), c.req.param('id'), { since });
    return c.redirect(`/console/endpoints/${c.req.param('id')}?done=recovered`, 303);
  });
  app.post('/endpoints/:id/rotate-secret', needs('admin'), async (c) => {
    await deps.endpoints.rotateSecret(c.get('principal'), c.req.param('id'), {});
    return c.redirect(`/console/endpoints/${c.req.param('id')}?done=rotated`, 303);
  });
  // A post, not a link: the secret is shown once on this answer, never put in a URL or a cache.
  app.post('/endpoints/:id/secret', needs('admin'), async (c) => {
    const id = c.req.param('id');
    const [e, health, secret] = await Promise.all([deps.endpoints.get(id), deps.activity.endpointHealth(id), deps.endpoints.revealSecret(id)]);
    c.header('cache-control', 'no-store');
    return render(c, e.description ?? `Endpoint ${e.id}`, 'endpoints', <EndpointPage e={e} health={health} csrf={c.get('csrf')} canOperate={can(c, 'operate')} canAdmin secret={secret.secret} />);
  });

  // Ledger
  app.get('/ledger', async (c) => {
    const before = z.coerce.number().int().positive().optional().catch(undefined).parse(c.req.query('before') || undefined);
    const { data, older } = await deps.ledger.latest(50, before);
    return render(c, 'Ledger', 'ledger', <LedgerPage entries={data} older={older} verified={deps.ledger.lastVerified} />);
  });
  app.get('/ledger/verify', async (c) => {
    await deps.ledger.verify();
    const { data, older } = await deps.ledger.latest(50);
    return render(c, 'Ledger', 'ledger', <LedgerPage entries={data} older={older} verified={deps.ledger.lastVerified} />);
  });
  app.get('/ledger/export', async (c) => {
    const q = readFilters(z.object({ after: z.coerce.number().int().min(0).default(0), until: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().positive().optional()) }), c.req.query());
    return streamNdjson(c, deps.ledger.export(q.after, q.until), `herald-ledger-${q.after + 1}-${q.until ?? 'end'}.ndjson`);
  });

  return app;
}
