// Putting deliveries back in the queue a chunk at a time: one unit of work per chunk (one
// deliveries.requeued entry), so neither a recovery nor a bulk requeue holds the writer for long.
import type { RecoveryPosition, RequeueSelection } from '../store/records.js';
import type { Tx } from '../store/store.js';

export const START: RecoveryPosition = [0, 0];

export interface RequeuePlan {
  selection: RequeueSelection;
  /** The ledger stream of the chunks: the endpoint recovered, or the job. */
  stream: string;
  actor: string;
  trigger: 'redelivery' | 'recovery';
  reason: string | null;
  /** A bulk requeue job: each chunk records the job and the position it reached. */
  jobId?: string;
}

interface Chunk {
  count: number;
  /** Where the next chunk starts; null when this one was the last. */
  next: RecoveryPosition | null;
}

/**
 * Requeues up to `limit` deliveries of the plan after `after`, in creation order, as one entry. A step
 * may find none while more remain further on (the store looks at a bounded window): `next` says.
 */
export async function requeueChunk(tx: Tx, plan: RequeuePlan, after: RecoveryPosition, limit: number): Promise<Chunk> {
  const { rows, next } = await tx.requeueCandidates(plan.selection, after, limit);
  if (rows.length === 0) return { count: 0, next };
  // Where a job resumes: everything up to here is done (the window's end, past rows that did not match).
  const cursor = next ?? rows[rows.length - 1]!.position;
  await tx.append({
    kind: 'deliveries.requeued',
    stream: plan.stream,
    actor: plan.actor,
    body: {
      delivery_ids: rows.map((r) => r.id),
      trigger: plan.trigger,
      reason: plan.reason,
      next_attempt_at: tx.now().toISOString(),
      ...(plan.jobId ? { job: { id: plan.jobId, cursor } } : {}),
    },
  });
  return { count: rows.length, next };
}

/** The later of two positions. */
export const later = (a: RecoveryPosition, b: RecoveryPosition): RecoveryPosition => (a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]) ? a : b);

