// Events: search by id, idempotency key, type, subject, user and time; one event with its payload and
// the deliveries it fanned out to.
import type { EventsService } from '../../services/events.js';
import type { EventFilterInput } from '../filters.js';
import { DeliveryCells, DeliveryHeaders, Facts, Pager, Time } from '../layout.js';
import { TimeRange } from './deliveries.js';

type EventList = Awaited<ReturnType<EventsService['list']>>;
type EventDetail = Awaited<ReturnType<EventsService['get']>>;

export function EventsPage({ f, params, page }: { f: EventFilterInput; params: Record<string, string | undefined>; page: EventList }) {
  return (
    <>
      <form class="filters" method="get" action="/console/events" role="search" aria-label="Search events">
        <label>
          Event id
          <input type="text" name="id" value={f.id ?? ''} size={16} />
        </label>
        <label>
          Idempotency key
          <input type="text" name="key" value={f.key ?? ''} size={16} />
        </label>
        <label>
          Type
          <input type="text" name="type" value={f.type ?? ''} size={14} placeholder="job.completed" />
        </label>
        <label>
          Subject
          <input type="text" name="subject" value={f.subject ?? ''} size={12} />
        </label>
        <label>
          User
          <input type="text" name="user" value={f.user ?? ''} size={10} />
        </label>
        <TimeRange since={f.since} until={f.until} />
        <button type="submit">Search</button>
        <a class="button secondary" href="/console/events">
          Clear
        </a>
      </form>
      {page.data.length === 0 ? (
        <p>No events match.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Type</th>
                <th scope="col">Subject</th>
                <th scope="col" class="wide">User</th>
                <th scope="col">Received</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((e) => (
                <tr>
                  <td>
                    <a class="mono" href={`/console/events/${e.id}`}>
                      {e.id}
                    </a>
                  </td>
                  <td>{e.type}</td>
                  <td>{e.subject ?? <span class="muted">—</span>}</td>
                  <td class="wide">{e.user ?? <span class="muted">—</span>}</td>
                  <td>
                    <Time at={e.received_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager base="/console/events" params={params} next={page.next_cursor} />
    </>
  );
}

export function EventPage({ e }: { e: EventDetail }) {
  return (
    <>
      <Facts
        items={[
          ['Type', e.type],
          ['Source', e.source ?? '—'],
          ['Subject', e.subject ?? '—'],
          ['User', e.user ?? '—'],
          ['Occurred', <Time at={e.occurred_at} />],
          ['Received', <Time at={e.received_at} />],
        ]}
      />
      <h2>Payload</h2>
      <pre>{JSON.stringify(e.data, null, 2)}</pre>
      {e.notify && (
        <>
          <h2>Ad-hoc recipients</h2>
          <pre>{JSON.stringify(e.notify, null, 2)}</pre>
        </>
      )}
      <h2>Deliveries</h2>
      {e.deliveries.length === 0 ? (
        <p>No endpoint matched this event.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <DeliveryHeaders />
                <th scope="col" class="num">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {e.deliveries.map((d) => (
                <tr>
                  <DeliveryCells d={d} />
                  <td class="num">{d.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
