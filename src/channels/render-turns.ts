// Templates render on the main loop, so renders take turns with it: one render per turn of the event
// loop, each within its budget, so attempts started together stall requests for one render at most.
import { type SendRequest, type SendResult, failure } from './channel.js';
import { RENDER_LIMIT_MS, type TemplateContext, type TemplateError, type TemplatePart, renderPart } from './templates.js';

let lastTurn: Promise<void> = Promise.resolve();

/** Resolves when it is the caller's turn to render: after the renders asked for before, and a turn of the event loop. */
function renderTurn(): Promise<void> {
  const turn = lastTurn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  lastTurn = turn;
  return turn;
}

/** renderPart in its turn. */
export async function renderPartInTurn(req: SendRequest, part: TemplatePart, ctx?: TemplateContext, limitMs = RENDER_LIMIT_MS): Promise<string | null> {
  await renderTurn();
  return renderPart(req, part, ctx, limitMs);
}

/** A channel's answer for a template that did not render: one that ran over time may succeed on a later attempt. */
export function renderFailure(err: TemplateError): SendResult {
  return failure('network_error', err.message, { permanent: !err.overTime });
}
