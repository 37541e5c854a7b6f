// A turn of the event loop for everything else waiting (I/O, timers): long runs of work in a service
// (a large batch, a requeue, an export) take one between steps, so no request waits for the whole run.
export const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));
