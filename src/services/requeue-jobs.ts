// Bulk requeue ("retry all matching"): how many deliveries a requeue with some filters would touch,
// and a job that requeues every one of them in the background, a chunk per unit of work. The ledger
// holds the job (requeue.started, a deliveries.requeued per chunk naming the job and the position it
// reached, requeue.finished), so its progress is a projection and a restart resumes it where it stopped.
import { z } from 'zod';
import { HeraldError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { type DeliveryMatch, REQUEUABLE_STATUSES, matchOf } from '../domain/requeue.js';
import type { JobFilters, RecoveryPosition, RequeueJob, RequeueSelection } from '../store/records.js';
import type { Tx } from '../store/store.js';
import type { Principal, ServiceContext } from './context.js';
import { deliveryFilterShape } from './deliveries.js';
import { type RequeuePlan, START, later, requeueChunk } from './requeue-chunks.js';
import { yieldToOthers } from './turns.js';

/** The deliveries list's filters, as far as a requeue can touch them (status: succeeded, failed or dead). */
const filterShape = {
  ...deliveryFilterShape,
  status: z.enum(REQUEUABLE_STATUSES).optional().describe('succeeded, failed or dead: a requeue never touches pending, delivering or cancelled deliveries'),
};

const sinceBeforeUntil = (f: { since?: string | undefined; until?: string | undefined }) => !f.since || !f.until || f.since < f.until;
const orderMessage = { message: 'since must be before until', path: ['since'] };

/** Unknown names are refused: a misspelt filter must not widen a requeue to everything. */
export const requeueFiltersSchema = z.object(filterShape).strict().refine(sinceBeforeUntil, orderMessage);

export const requeueSchema = z
  .object({ ...filterShape, reason: z.string().max(1000).optional() })
  .strict()
  .refine(sinceBeforeUntil, orderMessage)
  .meta({ id: 'RequeueInput', description: 'The deliveries list filters to requeue every match of, and why.' });

export type RequeueFilters = z.output<typeof requeueFiltersSchema>;

export function jobView(j: RequeueJob) {
  return {
    id: j.id,
    state: j.state,
    total: j.total,
    requeued: j.requeued,
    filters: j.filters,
    reason: j.reason,
    actor: j.actor,
    started_at: j.started_at,
    updated_at: j.updated_at,
    finished_at: j.finished_at,
  };
}

/** A bulk requeue's selection: see REQUEUABLE_STATUSES. */
const selectionOf = (match: DeliveryMatch, upToSeq: number | null): RequeueSelection => ({
  match,
  statuses: REQUEUABLE_STATUSES,
  live_endpoints_only: true,
  up_to_seq: upToSeq,
});

/** Longest pause between two tries of a chunk that failed (a locked or full database clears by itself). */
const MAX_RETRY_PAUSE_MS = 30_000;

export class RequeueJobs {
  private readonly running = new Map<string, Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private halted = false;

  constructor(private readonly ctx: ServiceContext) {}

  /** How many deliveries a requeue with these filters would touch now. */
  async count(filters: RequeueFilters): Promise<{ count: number }> {
    return { count: await this.ctx.store.read.deliveries.countRequeueCandidates(selectionOf(matchOf(filters), null)) };
  }

  /**
   * Records the job (with how many deliveries it matches now, and the ledger position it stops at) and
   * starts it in the background; the answer shows it running.
   */
  async start(p: Principal, input: z.output<typeof requeueSchema>) {
    const { reason, ...filters } = input;
    const match = matchOf(filters);
    const upTo = (await this.ctx.store.read.ledger.ledgerHead())?.seq ?? 0;
    const total = await this.ctx.store.read.deliveries.countRequeueCandidates(selectionOf(match, upTo));
    const id = newId('job', this.ctx.clock().getTime());
    const job = await this.ctx.store.transact(async (tx) => {
      await tx.append({ kind: 'requeue.started', stream: id, actor: p.name, body: { job_id: id, filters: match, reason: reason ?? null, total, up_to_seq: upTo } });
      if (total === 0) await tx.append({ kind: 'requeue.finished', stream: id, actor: p.name, body: { job_id: id, requeued: 0 } });
      return tx.getRequeueJob(id);
    });
    if (!job) throw new Error(`requeue job ${id} was recorded but cannot be read`);
    this.launch(job);
    return jobView(job);
  }

  async get(id: string) {
    const job = await this.ctx.store.read.requeueJobs.getJob(id);
    if (!job) throw new HeraldError('not_found', `no requeue job ${id}`);
    return jobView(job);
  }

  async list(f: JobFilters) {
    const page = await this.ctx.store.read.requeueJobs.listJobs(f);
    return { data: page.data.map(jobView), next_cursor: page.next_cursor };
  }

  /** Goes on with the jobs a previous process left running, from the position each one reached. */
  async resume(): Promise<void> {
    for (const job of await this.ctx.store.read.requeueJobs.runningJobs()) {
      this.ctx.log.info({ job: job.id, requeued: job.requeued, total: job.total }, 'resuming a requeue job');
      this.launch(job);
    }
  }

  /** Stops every job after its current chunk (shutdown); the next start resumes them. */
  halt(): void {
    this.halted = true;
    for (const wake of this.sleepers) wake();
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private launch(job: RequeueJob): void {
    if (job.state !== 'running' || this.halted || this.running.has(job.id)) return;
    const run = this.run(job).finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
  }

  /** Chunks until the job is done or herald stops; a chunk that fails is tried again, never given up. */
  private async run(job: RequeueJob): Promise<void> {
    const plan: RequeuePlan = { selection: selectionOf(job.filters, job.up_to_seq), stream: job.id, actor: job.actor, trigger: 'redelivery', reason: job.reason, jobId: job.id };
    let from: RecoveryPosition = job.cursor ?? START;
    for (let failures = 0; !this.halted; ) {
      try {
        const next = await this.ctx.store.transact((tx) => this.step(tx, plan, from));
        failures = 0;
        if (!next) return;
        from = next;
        await yieldToOthers();
      } catch (err) {
        failures++;
        const pause = Math.min(MAX_RETRY_PAUSE_MS, 250 * 2 ** Math.min(failures, 7));
        this.ctx.log.error({ err, job: job.id, retry_in_ms: pause }, 'a requeue chunk failed; trying again');
        await this.sleep(pause);
      }
    }
  }

  /** One chunk, and the job's end once nothing is left; returns where the next chunk starts, or null. */
  private async step(tx: Tx, plan: RequeuePlan, from: RecoveryPosition): Promise<RecoveryPosition | null> {
    // The job's own row says how far it got, so a chunk never starts before one already recorded.
    const job = await tx.getRequeueJob(plan.jobId!);
    if (!job || job.state !== 'running') return null;
    const chunk = await requeueChunk(tx, plan, job.cursor ? later(job.cursor, from) : from, this.ctx.config.HERALD_REQUEUE_CHUNK);
    if (chunk.next) return chunk.next;
    await tx.append({ kind: 'requeue.finished', stream: job.id, actor: job.actor, body: { job_id: job.id, requeued: job.requeued + chunk.count } });
    tx.afterCommit(() => this.ctx.log.info({ job: job.id, requeued: job.requeued + chunk.count }, 'requeue job finished'));
    return null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
