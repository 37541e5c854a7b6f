// Groups the calls made in one turn of the event loop into one call of `runBatch` (one unit of work,
// as graphile-worker batches completeJob), so the caller records one item and never sees the batch.
// When a batch fails, each of its items runs again alone, so a bad item fails on its own.
export function batched<I, O>(runBatch: (items: I[]) => Promise<O[]>): (item: I) => Promise<O> {
  let waiting: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  const runAlone = (w: (typeof waiting)[number]) => runBatch([w.item]).then(([o]) => w.resolve(o!), w.reject);
  const flush = () => {
    const batch = waiting;
    waiting = [];
    runBatch(batch.map((w) => w.item)).then(
      (outs) => batch.forEach((w, i) => w.resolve(outs[i]!)),
      (err: unknown) => {
        if (batch.length === 1) batch[0]!.reject(err);
        else for (const w of batch) void runAlone(w);
      },
    );
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (waiting.length === 1) setImmediate(flush);
    });
}
