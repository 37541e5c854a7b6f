// "Retry all matching": a confirmation that says how many deliveries the filters will touch, then the
// job's progress (it runs in the background and is recorded in the ledger).
import type { RequeueJobs } from '../../services/requeue-jobs.js';
import { CsrfField, Facts, Status, Time } from '../layout.js';

type RequeueJobView = Awaited<ReturnType<RequeueJobs['get']>>;

const describe = (filters: Record<string, string | undefined>) =>
  Object.entries(filters)
    .filter((e): e is [string, string] => !!e[1])
    .map(([k, v]) => `${k.replace('_', ' ')} ${v}`)
    .join(', ') || 'no filter: every delivery';

export function RequeueConfirmPage({ filters, count, csrf, back }: { filters: Record<string, string | undefined>; count: number; csrf: string; back: string }) {
  return (
    <>
      <p>
        Filters: <strong>{describe(filters)}</strong>.
      </p>
      {count === 0 ? (
        <p>Nothing to requeue: no delivery that matches has succeeded, failed or gone dead (queued and in-flight ones are never touched).</p>
      ) : (
        <form method="post" action="/console/deliveries/requeue" class="actions">
          <CsrfField token={csrf} />
          {Object.entries(filters).map(([k, v]) => (v ? <input type="hidden" name={k} value={v} /> : null))}
          <p id="requeue-count">
            This will requeue <strong>{count.toLocaleString('en-US')}</strong> deliver{count === 1 ? 'y' : 'ies'} (those that succeeded, failed or went dead;
            queued and in-flight ones are left alone), each with a fresh retry budget, in the background.
          </p>
          <label>
            Reason (recorded in the ledger)
            <input type="text" name="reason" maxlength={1000} size={40} />
          </label>
          <button type="submit">Requeue {count.toLocaleString('en-US')} deliveries</button>
        </form>
      )}
      <p>
        <a href={back}>Back to the deliveries</a>
      </p>
    </>
  );
}

/** The job, refreshed every second while it runs (htmx). */
export function RequeueJobPanel({ job }: { job: RequeueJobView }) {
  const running = job.state === 'running';
  return (
    <section id="job" aria-live="polite" {...(running ? { 'hx-get': `/console/jobs/${job.id}?fragment=1`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {})}>
      <p>
        <Status status={job.state} /> {job.requeued.toLocaleString('en-US')} of {job.total.toLocaleString('en-US')} requeued
      </p>
      <progress class="progress" max={Math.max(job.total, 1)} value={job.requeued} aria-label="Requeued so far">
        {job.requeued} of {job.total}
      </progress>
      <Facts
        items={[
          ['Filters', <span class="mono">{JSON.stringify(job.filters)}</span>],
          ['Reason', job.reason ?? '—'],
          ['Started by', job.actor],
          ['Started', <Time at={job.started_at} />],
          ['Finished', <Time at={job.finished_at} />],
        ]}
      />
    </section>
  );
}
