// Overview: deliveries per minute by result (last hour, last day), ingest rate, the queue, endpoints
// failing or disabled, and the ledger's last verification.
import type { ActivityService, Series } from '../../services/activity.js';
import type { LedgerService } from '../../services/ledger.js';
import { Status, Time } from '../layout.js';

type Overview = Awaited<ReturnType<ActivityService['overview']>>;

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

function age(s: number | null): string {
  if (s === null) return 'none due';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function Chart({ id, title, series }: { id: string; title: string; series: Series }) {
  const spec = { series: series.results, data: series.data, unit: `per ${series.bucket_s / 60} min` };
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <p class="muted">
        {series.results.map((r) => `${r} ${fmt(series.totals[r])}`).join(' · ')}
      </p>
      <div class="chart" role="img" aria-label={`${title}: ${series.results.map((r) => `${series.totals[r]} ${r}`).join(', ')}`} data-chart={JSON.stringify(spec)}></div>
    </section>
  );
}

export function OverviewPage({ o, verified }: { o: Overview; verified: LedgerService['lastVerified'] }) {
  return (
    <>
      <div class="cards">
        <div class="card">
          <span class="n">{fmt(o.ingest.per_minute_5m)}</span> events / min (last 5 min)
        </div>
        <div class="card">
          <span class="n">
            {fmt(o.queue.waiting)}
            {o.queue.waiting_capped ? '+' : ''}
          </span>{' '}
          deliveries waiting
        </div>
        <div class="card">
          <span class="n">{fmt(o.queue.delivering)}</span> in flight
        </div>
        <div class="card">
          <span class="n">{age(o.queue.oldest_due_age_s)}</span> oldest due
        </div>
        <div class="card">
          <span class="n">{fmt(o.day.totals.dead)}</span> went dead (24 h)
        </div>
      </div>
      <Chart id="chart-hour" title="Deliveries, last hour" series={o.hour} />
      <Chart id="chart-day" title="Deliveries, last 24 hours" series={o.day} />

      <h2>Endpoints failing or disabled</h2>
      {o.troubled.length === 0 ? (
        <p>None: every endpoint is enabled and healthy.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">State</th>
                <th scope="col">Failing since</th>
                <th scope="col" class="num">Dead in a row</th>
              </tr>
            </thead>
            <tbody>
              {o.troubled.map((e) => (
                <tr>
                  <td>
                    <a href={`/console/endpoints/${e.id}`}>{e.description ?? e.url ?? e.id}</a> <span class="muted mono">{e.id}</span>
                  </td>
                  <td>{e.enabled ? <Status status="failing" /> : <Status status="disabled" />} {e.disabled_reason && <span class="muted">{e.disabled_reason}</span>}</td>
                  <td>
                    <Time at={e.failing_since} />
                  </td>
                  <td class="num">{e.consecutive_dead}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Ledger</h2>
      {verified ? (
        <p>
          {verified.result.ok ? <Status status="ok" /> : <Status status="broken" />} verified <Time at={verified.at} />:{' '}
          {verified.result.entries.toLocaleString('en-US')} entries
          {verified.result.ok ? (
            <>
              , head <code>{verified.result.head_hash.slice(0, 16)}…</code>
            </>
          ) : (
            <>, first broken at seq {verified.result.first_broken_seq}</>
          )}
          . <a href="/console/ledger">Ledger</a>
        </p>
      ) : (
        <p>
          Not verified since herald started. <a href="/console/ledger/verify">Verify the ledger now</a>
        </p>
      )}
      <script src="/console/static/uPlot.min.js" defer></script>
      <link rel="stylesheet" href="/console/static/uPlot.min.css" />
    </>
  );
}
