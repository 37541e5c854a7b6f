// The page shell every console page shares: navigation, who is signed in, and the assets (served by
// herald itself; nothing is fetched from elsewhere).
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { Principal } from '../services/context.js';
import { CSRF_FIELD } from './auth.js';
import { filterQuery } from './filters.js';

export type Section = 'overview' | 'events' | 'deliveries' | 'endpoints' | 'ledger' | null;

const SECTIONS: Array<[Exclude<Section, null>, string, string]> = [
  ['overview', 'Overview', '/console'],
  ['events', 'Events', '/console/events'],
  ['deliveries', 'Deliveries', '/console/deliveries'],
  ['endpoints', 'Endpoints', '/console/endpoints'],
  ['ledger', 'Ledger', '/console/ledger'],
];

export interface PageProps {
  title: string;
  section: Section;
  principal?: Principal | undefined;
  csrf?: string | undefined;
  /** A message shown at the top (the outcome of the last action). */
  flash?: string | undefined;
  children?: Child;
}

export function Page({ title, section, principal, csrf, flash, children }: PageProps) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${title} · herald`}</title>
          <link rel="stylesheet" href="/console/static/console.css" />
          <script src="/console/static/htmx.min.js" defer></script>
          <script src="/console/static/console.js" defer></script>
        </head>
        <body hx-headers={csrf ? JSON.stringify({ 'x-csrf-token': csrf }) : undefined}>
          <a class="skip" href="#main">Skip to content</a>
          <header class="top">
            <a class="brand" href="/console">herald</a>
            {principal && (
              <nav aria-label="Sections">
                <ul>
                  {SECTIONS.map(([id, label, href]) => (
                    <li>
                      <a href={href} aria-current={section === id ? 'page' : undefined}>
                        {label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            )}
            {principal && (
              <form method="post" action="/console/logout" class="who">
                <span>
                  {principal.name} <span class="role">{principal.role}</span>
                </span>
                <CsrfField token={csrf} />
                <button type="submit" class="link">Sign out</button>
              </form>
            )}
          </header>
          <main id="main">
            <h1>{title}</h1>
            {flash && (
              <p class="flash" role="status">
                {flash}
              </p>
            )}
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

export const CsrfField = ({ token }: { token?: string | undefined }) => (token ? <input type="hidden" name={CSRF_FIELD} value={token} /> : null);

/** A time in UTC; the browser shows it in its own time zone, with UTC on hover. */
export const Time = ({ at }: { at: string | null | undefined }) =>
  at ? (
    <time datetime={at} title={`${at.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC`}>
      {at.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC
    </time>
  ) : (
    <span class="muted">—</span>
  );

export const Status = ({ status }: { status: string }) => <span class={`status s-${status}`}>{status}</span>;

/** Definition list of label → value pairs. */
export const Facts = ({ items }: { items: Array<[string, Child]> }) => (
  <dl class="facts">
    {items.map(([k, v]) => (
      <>
        <dt>{k}</dt>
        <dd>{v}</dd>
      </>
    ))}
  </dl>
);

/** "Next page" for a cursor-paged list, keeping the filters in the URL. */
export function Pager({ base, params, next }: { base: string; params: Record<string, string | undefined>; next: string | null }) {
  const first = filterQuery(params);
  const later = new URLSearchParams(first);
  if (next) later.set('cursor', next);
  return (
    <nav class="pager" aria-label="Pages">
      {params.cursor && <a href={`${base}?${first}`}>First page</a>}
      {next && <a href={`${base}?${later}`}>Next page</a>}
    </nav>
  );
}

/** The headers of DeliveryCells. */
export const DeliveryHeaders = () => (
  <>
    <th scope="col">Delivery</th>
    <th scope="col">Status</th>
    <th scope="col">Channel</th>
    <th scope="col" class="wide">Endpoint</th>
  </>
);

/** The first cells of a delivery's row in any list: the delivery, its status, channel and endpoint. */
export const DeliveryCells = ({ d }: { d: { id: string; status: string; channel: string; endpoint_id: string | null; recipients?: string[] | null } }) => (
  <>
    <td>
      <a class="mono" href={`/console/deliveries/${d.id}`}>
        {d.id}
      </a>
    </td>
    <td>
      <Status status={d.status} />
    </td>
    <td>{d.channel}</td>
    <td class="wide mono">{d.endpoint_id ? <a href={`/console/endpoints/${d.endpoint_id}`}>{d.endpoint_id}</a> : (d.recipients ?? []).join(', ') || '—'}</td>
  </>
);
