// Deliveries: a filtered list, one delivery with its attempt timeline, redelivery, and "retry all
// matching" (a background job, after a confirmation that says how many it will touch).
import type { DeliveriesService } from '../../services/deliveries.js';
import { CHANNELS } from '../../domain/endpoint.js';
import { type DeliveryFilterInput, filterQuery } from '../filters.js';
import { CsrfField, DeliveryCells, DeliveryHeaders, Facts, Pager, Status, Time } from '../layout.js';

type DeliveryList = Awaited<ReturnType<DeliveriesService['list']>>;
type DeliveryDetail = Awaited<ReturnType<DeliveriesService['get']>>;
type Attempt = DeliveryDetail['attempts'][number];

const STATUSES = ['pending', 'delivering', 'succeeded', 'failed', 'dead', 'cancelled'];

export function TimeRange({ since, until }: { since?: string | undefined; until?: string | undefined }) {
  return (
    <>
      <label>
        Since
        <input type="text" name="since" value={since ?? ''} placeholder="2026-12-01T09:00" size={18} />
      </label>
      <label>
        Until
        <input type="text" name="until" value={until ?? ''} placeholder="2026-12-02T09:00" size={18} />
      </label>
      <input type="hidden" name="tz" value="UTC" />
    </>
  );
}

export function DeliveryFilterForm({ f }: { f: DeliveryFilterInput }) {
  return (
    <form class="filters" method="get" action="/console/deliveries" role="search" aria-label="Filter deliveries">
      <label>
        Status
        <select name="status">
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option value={s} selected={f.status === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Endpoint id
        <input type="text" name="endpoint_id" value={f.endpoint_id ?? ''} size={14} />
      </label>
      <label>
        Channel
        <select name="channel">
          <option value="">any</option>
          {CHANNELS.map((ch) => (
            <option value={ch} selected={f.channel === ch}>
              {ch}
            </option>
          ))}
        </select>
      </label>
      <label>
        Event type
        <input type="text" name="type" value={f.type ?? ''} size={14} placeholder="job.failed" />
      </label>
      <label>
        Event id
        <input type="text" name="event_id" value={f.event_id ?? ''} size={14} />
      </label>
      <TimeRange since={f.since} until={f.until} />
      <button type="submit">Filter</button>
      <a class="button secondary" href="/console/deliveries">
        Clear
      </a>
    </form>
  );
}

export function DeliveryTable({ rows }: { rows: DeliveryList['data'] }) {
  if (rows.length === 0) return <p>No deliveries match.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <DeliveryHeaders />
            <th scope="col" class="num">Attempts</th>
            <th scope="col">Created</th>
            <th scope="col" class="wide">Next attempt</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr>
              <DeliveryCells d={d} />
              <td class="num">{d.attempt_count}</td>
              <td>
                <Time at={d.created_at} />
              </td>
              <td class="wide">
                <Time at={d.next_attempt_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DeliveriesPage(props: { f: DeliveryFilterInput; params: Record<string, string | undefined>; page: DeliveryList; canOperate: boolean }) {
  const query = filterQuery(props.params);
  return (
    <>
      <DeliveryFilterForm f={props.f} />
      {props.canOperate && (
        <p>
          <a class="button secondary" href={`/console/deliveries/requeue?${query}`}>
            Retry all matching…
          </a>
        </p>
      )}
      <DeliveryTable rows={props.page.data} />
      <Pager base="/console/deliveries" params={props.params} next={props.page.next_cursor} />
    </>
  );
}

const headerList = (h: Record<string, string> | null) =>
  h && Object.keys(h).length > 0 ? (
    <pre>
      {Object.entries(h)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}
    </pre>
  ) : (
    <span class="muted">—</span>
  );

function AttemptItem({ a }: { a: Attempt }) {
  const state = a.outcome === null ? 'in flight' : a.outcome;
  return (
    <li class={a.outcome === 'succeeded' ? 'ok' : a.outcome === null ? '' : 'bad'}>
      <h3>
        Attempt {a.n}: <Status status={a.outcome === 'succeeded' ? 'succeeded' : a.outcome === null ? 'delivering' : 'failed'} /> {state}
        {a.status_code !== null && ` · HTTP ${a.status_code}`}
        {a.duration_ms !== null && ` · ${a.duration_ms} ms`}
      </h3>
      <Facts
        items={[
          ['Started', <Time at={a.started_at} />],
          ['Finished', <Time at={a.finished_at} />],
          ['Trigger', `${a.trigger} by ${a.actor}`],
          ['Remote address', a.remote_address ?? '—'],
          ...(a.error ? ([['Error', a.error]] as Array<[string, string]>) : []),
        ]}
      />
      <details>
        <summary>Request headers sent</summary>
        {headerList(a.request_headers)}
      </details>
      <details>
        <summary>Response headers and body</summary>
        {headerList(a.response_headers)}
        {a.response_body ? <pre>{a.response_body}</pre> : <p class="muted">No response body recorded.</p>}
      </details>
    </li>
  );
}

/** The attempts, refreshed every 2 s while the delivery is queued or in flight (htmx). */
export function AttemptTimeline({ d }: { d: DeliveryDetail }) {
  const live = d.status === 'pending' || d.status === 'delivering';
  return (
    <section id="attempts" aria-live="polite" {...(live ? { 'hx-get': `/console/deliveries/${d.id}/attempts`, 'hx-trigger': 'every 2s', 'hx-swap': 'outerHTML' } : {})}>
      <h2>Attempts</h2>
      <p>
        <Status status={d.status} /> {d.attempt_count} attempt{d.attempt_count === 1 ? '' : 's'}
        {d.next_attempt_at && (
          <>
            ; next <Time at={d.next_attempt_at} />
          </>
        )}
      </p>
      {d.attempts.length === 0 ? <p>No attempt yet.</p> : (
        <ol class="timeline">
          {d.attempts.map((a) => (
            <AttemptItem a={a} />
          ))}
        </ol>
      )}
    </section>
  );
}

export function DeliveryPage({ d, csrf, canOperate }: { d: DeliveryDetail; csrf: string; canOperate: boolean }) {
  return (
    <>
      <Facts
        items={[
          ['Status', <Status status={d.status} />],
          ['Event', <a class="mono" href={`/console/events/${d.event_id}`}>{d.event_id}</a>],
          ['Endpoint', d.endpoint_id ? <a class="mono" href={`/console/endpoints/${d.endpoint_id}`}>{d.endpoint_id}</a> : (d.recipients ?? []).join(', ')],
          ['Channel', d.channel],
          ['Created', <Time at={d.created_at} />],
          ['Updated', <Time at={d.updated_at} />],
        ]}
      />
      {canOperate && (
        <form method="post" action={`/console/deliveries/${d.id}/redeliver`} class="actions">
          <CsrfField token={csrf} />
          <label>
            Reason (recorded in the ledger)
            <input type="text" name="reason" maxlength={1000} size={40} />
          </label>
          <button type="submit">Redeliver</button>
        </form>
      )}
      <AttemptTimeline d={d} />
    </>
  );
}
