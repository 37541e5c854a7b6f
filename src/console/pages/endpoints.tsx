// Endpoints: health (success rate, failure streak, breaker state, latest failures), filters and
// limits; enable/disable, recover since T, send a test, rotate and reveal the secret (the form for
// creating and editing is endpoint-editor.tsx).
import type { Child } from 'hono/jsx';
import { CHANNELS } from '../../domain/endpoint.js';
import type { ActivityService } from '../../services/activity.js';
import type { EndpointsService } from '../../services/endpoints.js';
import { CsrfField, Facts, Pager, Status, Time } from '../layout.js';

type EndpointView = ReturnType<EndpointsService['view']>;
type Health = Awaited<ReturnType<ActivityService['endpointHealth']>>;

const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);

export function breaker(e: EndpointView): string {
  if (e.archived_at) return 'archived';
  if (!e.enabled) return 'disabled';
  return e.health.failing_since ? 'failing' : 'enabled';
}

const target = (e: EndpointView) => ('url' in e && e.url ? e.url : 'to' in e && e.to ? e.to.join(', ') : '');

export function EndpointsPage(props: {
  page: { data: EndpointView[]; next_cursor: string | null };
  rates: Map<string, { attempts: number; success_rate: number | null }>;
  params: Record<string, string | undefined>;
  channel?: string | undefined;
  archived: boolean;
  canAdmin: boolean;
}) {
  return (
    <>
      <form class="filters" method="get" action="/console/endpoints" role="search" aria-label="Filter endpoints">
        <label>
          Channel
          <select name="channel">
            <option value="">any</option>
            {CHANNELS.map((c) => (
              <option value={c} selected={props.channel === c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label class="inline">
          <span>
            <input type="checkbox" name="archived" value="1" checked={props.archived} /> include archived
          </span>
        </label>
        <button type="submit">Filter</button>
      </form>
      {props.canAdmin && (
        <p>
          <a class="button" href="/console/endpoints/new">
            New endpoint
          </a>
        </p>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">State</th>
              <th scope="col" class="num">Success (24 h)</th>
              <th scope="col" class="num">Dead in a row</th>
              <th scope="col" class="wide">Failing since</th>
              <th scope="col" class="wide">Events</th>
            </tr>
          </thead>
          <tbody>
            {props.page.data.map((e) => {
              const r = props.rates.get(e.id);
              return (
                <tr>
                  <td>
                    <a href={`/console/endpoints/${e.id}`}>{e.description ?? target(e)}</a>
                    <div class="muted mono">
                      {e.channel} · {e.id}
                    </div>
                  </td>
                  <td>
                    <Status status={breaker(e)} />
                  </td>
                  <td class="num">
                    {pct(r?.success_rate ?? null)} <span class="muted">({r?.attempts ?? 0})</span>
                  </td>
                  <td class="num">{e.health.consecutive_dead}</td>
                  <td class="wide">
                    <Time at={e.health.failing_since} />
                  </td>
                  <td class="wide mono">{e.events.join(', ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager base="/console/endpoints" params={props.params} next={props.page.next_cursor} />
    </>
  );
}

function Action({ action, csrf, label, children, danger }: { action: string; csrf: string; label: string; children?: Child; danger?: boolean }) {
  return (
    <form method="post" action={action}>
      <CsrfField token={csrf} />
      {children}
      <button type="submit" class={danger ? 'danger' : undefined}>
        {label}
      </button>
    </form>
  );
}

export function EndpointPage(props: { e: EndpointView; health: Health; csrf: string; canOperate: boolean; canAdmin: boolean; secret?: string | undefined }) {
  const { e, health, csrf } = props;
  const live = !e.archived_at;
  return (
    <>
      <Facts
        items={[
          ['State', <><Status status={breaker(e)} /> {e.disabled_reason ?? ''}</>],
          ['Channel', e.channel],
          ['Target', <span class="mono">{target(e)}</span>],
          ['Events', <span class="mono">{e.events.join(', ')}</span>],
          ['Users', e.users?.join(', ') ?? 'any'],
          ['Subject', e.subject ?? 'any'],
          ['Timeout', `${e.timeout_ms} ms`],
          ['Retry', e.retry ? JSON.stringify(e.retry) : 'default'],
          ['Rate limit', e.rate_limit ? `${e.rate_limit.per_second} per second` : 'none'],
          ['Success (24 h)', `${pct(health.success_rate)} of ${health.attempts} attempts (${health.succeeded} succeeded, ${health.failed} failed, ${health.dead} dead)`],
          ['Failing since', <Time at={e.health.failing_since} />],
          ['Dead in a row', String(e.health.consecutive_dead)],
          ['Created', <Time at={e.created_at} />],
        ]}
      />
      <p>
        <a href={`/console/deliveries?endpoint_id=${e.id}`}>Deliveries to this endpoint</a>
        {' · '}
        <a href={`/console/deliveries?endpoint_id=${e.id}&status=dead`}>dead ones</a>
      </p>
      {props.secret && (
        <p class="flash" role="status">
          Signing secret: <code class="mono">{props.secret}</code>
        </p>
      )}
      {live && (props.canOperate || props.canAdmin) && (
        <section aria-labelledby="actions">
          <h2 id="actions">Actions</h2>
          <div class="actions">
            {props.canOperate &&
              (e.enabled ? (
                <Action action={`/console/endpoints/${e.id}/disable`} csrf={csrf} label="Disable" danger>
                  <label>
                    Reason
                    <input type="text" name="reason" maxlength={1000} />
                  </label>
                </Action>
              ) : (
                <Action action={`/console/endpoints/${e.id}/enable`} csrf={csrf} label="Enable" />
              ))}
            {props.canOperate && e.enabled && <Action action={`/console/endpoints/${e.id}/test`} csrf={csrf} label="Send test event" />}
            {props.canOperate && (
              <Action action={`/console/endpoints/${e.id}/recover`} csrf={csrf} label="Recover failed since">
                <label>
                  Since
                  <input type="text" name="since" required placeholder="2026-12-01T09:00" size={18} />
                </label>
                <input type="hidden" name="tz" value="UTC" />
              </Action>
            )}
            {props.canAdmin && e.channel === 'webhook' && <Action action={`/console/endpoints/${e.id}/rotate-secret`} csrf={csrf} label="Rotate secret" />}
            {props.canAdmin && e.channel === 'webhook' && <Action action={`/console/endpoints/${e.id}/secret`} csrf={csrf} label="Reveal secret" />}
            {props.canAdmin && (
              <a class="button secondary" href={`/console/endpoints/${e.id}/edit`}>
                Edit
              </a>
            )}
          </div>
        </section>
      )}
      <h2>Latest failures</h2>
      {health.recent_failures.length === 0 ? (
        <p>No failed attempt among its latest deliveries.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Delivery</th>
                <th scope="col">Outcome</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {health.recent_failures.map((a) => (
                <tr>
                  <td>
                    <Time at={a.finished_at} />
                  </td>
                  <td>
                    <a class="mono" href={`/console/deliveries/${a.delivery_id}`}>
                      {a.delivery_id}
                    </a>
                  </td>
                  <td>
                    {a.outcome}
                    {a.status_code !== null && ` (HTTP ${a.status_code})`}
                  </td>
                  <td>{a.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
