// Job events as a batch scheduler would post them: each job is submitted, started, then completed,
// failed or timed out. The first three jobs are scripted so that every kind shows within seconds;
// after that the mix is random (about 70% complete, 20% fail, 10% time out).

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const QUEUES = {
  'gpu-a100': ['train-resnet50', 'finetune-llama-8b', 'eval-bert-large', 'sweep-lr-0.003'],
  'cpu-batch': ['nightly-etl', 'reindex-search', 'export-parquet', 'dedupe-customers'],
  render: ['render-frames-0400', 'transcode-4k', 'bake-lightmaps'],
};
const FAILURES = [
  { exit_code: 1, error: 'Traceback (most recent call last): ValueError: NaN loss at step 1200' },
  { exit_code: 137, error: 'killed: out of memory (cgroup limit 64 GiB)' },
  { exit_code: 139, error: 'segmentation fault in libcudnn' },
  { exit_code: 2, error: 'input file s3://datasets/2026-11/part-0042 not found' },
];

const pick = (random, list) => list[Math.floor(random() * list.length)];

/**
 * `next()` answers the next event to post: `{ type, subject, user, source, occurred_at, data }` and
 * `idempotencyKey` (job and type: posting the same step twice is the same event).
 */
export function jobStream({ random = Math.random, now = () => new Date() } = {}) {
  let nextId = 1001;
  const live = []; // jobs submitted or started, not finished

  const newJob = (overrides = {}) => {
    const queue = pick(random, Object.keys(QUEUES));
    const job = { id: `job-${nextId++}`, queue, name: pick(random, QUEUES[queue]), user: pick(random, USERS), state: 'new', ...overrides };
    live.push(job);
    return job;
  };

  const event = (job, type, extra = {}) => {
    const data = { job_id: job.id, name: job.name, queue: job.queue, user: job.user, url: `https://scheduler.example.com/jobs/${job.id}`, ...extra };
    return { type, subject: job.id, user: job.user, source: 'scheduler/prod', occurred_at: now().toISOString(), data, idempotencyKey: `${job.id}:${type}` };
  };

  const finish = (job, outcome) => {
    live.splice(live.indexOf(job), 1);
    const runtime_s = Math.round(60 + random() * 5400);
    if (outcome === 'completed') return event(job, 'job.completed', { exit_code: 0, runtime_s });
    if (outcome === 'failed') return event(job, 'job.failed', { ...(job.failure ?? pick(random, FAILURES)), runtime_s });
    return event(job, 'job.timed_out', { runtime_s: 14_400, limit_s: 14_400, error: 'walltime limit of 4 h reached' });
  };

  /** Moves one job a step along its life. */
  const advance = (job, outcome) => {
    if (job.state === 'new') {
      job.state = 'submitted';
      return event(job, 'job.submitted', { priority: pick(random, ['low', 'normal', 'high']) });
    }
    if (job.state === 'submitted') {
      job.state = 'started';
      return event(job, 'job.started', { node: `${job.queue}-node-${String(1 + Math.floor(random() * 24)).padStart(2, '0')}` });
    }
    const r = random();
    return finish(job, outcome ?? (r < 0.7 ? 'completed' : r < 0.9 ? 'failed' : 'timed_out'));
  };

  // the opening: job A completes, job B fails (OOM), job C times out
  const a = newJob({ user: 'alice', queue: 'gpu-a100', name: 'train-resnet50' });
  const b = newJob({ user: 'bob', queue: 'gpu-a100', name: 'finetune-llama-8b', failure: FAILURES[1] });
  const c = newJob({ user: 'carol', queue: 'cpu-batch', name: 'nightly-etl' });
  const script = [[a], [b], [a], [b], [c], [a, 'completed'], [b, 'failed'], [c], [c, 'timed_out']];

  return {
    next() {
      const step = script.shift();
      if (step) return advance(step[0], step[1]);
      if (live.length < 3 || (live.length < 8 && random() < 0.35)) return advance(newJob());
      return advance(pick(random, live));
    },
  };
}
