// Endpoint management: create, patch, archive, enable/disable, rotate and reveal secrets, and the
// public view of an endpoint (secrets sealed in the ledger, header values never shown).
import { z } from 'zod';
import { type EndpointInput, type EndpointRecord, DEFAULT_TIMEOUT_MS, PATCH_SCHEMAS } from '../domain/endpoint.js';
import { HeraldError, fieldErrors } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { openJson, open as openSealed, seal, sealJson } from '../domain/secret-box.js';
import { isValidSigningSecret, newSigningSecret } from '../domain/signature.js';
import type { EndpointFilters, StoredEndpoint } from '../store/records.js';
import type { Tx } from '../store/store.js';
import { type Principal, SYSTEM, type ServiceContext } from './context.js';
import { type RecordingContext, emitHeraldEvent } from './record-event.js';

export const REDACTED = '[redacted]';

export const rotateSecretSchema = z
  .object({
    secret: z.string().refine(isValidSigningSecret, 'must be whsec_ followed by base64 of 24 to 64 bytes').optional(),
    grace_s: z.number().int().min(0).max(30 * 86_400).optional(),
  })
  .strict();

export const reasonSchema = z.object({ reason: z.string().max(1000).optional() }).strict();

/** Any channel's patch (the route validates it); which one applies is known once the endpoint is read. */
export const endpointPatchSchema = z
  .union([PATCH_SCHEMAS.webhook, PATCH_SCHEMAS.email, PATCH_SCHEMAS.slack, PATCH_SCHEMAS.discord])
  .meta({ id: 'EndpointPatch', description: "Any field of the endpoint's channel except channel and secret; null clears an optional field." });

export class EndpointsService {
  constructor(
    private readonly ctx: ServiceContext,
    /** Extra checks per channel (templates, digest schedules): field errors, empty when fine. */
    private readonly checkExtras: (channel: EndpointInput['channel'], input: Record<string, unknown>) => Array<{ path: string; message: string }> = () => [],
  ) {}

  async create(p: Principal, input: EndpointInput) {
    if (input.channel === 'webhook' && input.secret !== undefined && !isValidSigningSecret(input.secret)) {
      throw new HeraldError('validation', 'the endpoint is not valid', [{ path: 'secret', message: 'must be whsec_ followed by base64 of 24 to 64 bytes' }]);
    }
    this.extras(input.channel, input);
    const id = newId('ep');
    const secret = input.channel === 'webhook' ? (input.secret ?? newSigningSecret()) : null;
    const record: EndpointRecord = {
      id,
      channel: input.channel,
      url: null,
      to: null,
      from: null,
      events: input.events,
      users: null,
      subject: null,
      header_names: [],
      headers_sealed: null,
      smtp_url_sealed: null,
      timeout_ms: DEFAULT_TIMEOUT_MS,
      retry: null,
      rate_limit: null,
      template: null,
      digest: null,
      description: null,
      enabled: input.enabled ?? true,
      ...this.recordFields(input),
    };
    await this.ctx.store.transact((tx) =>
      tx.append({
        kind: 'endpoint.created',
        stream: id,
        actor: p.name,
        body: { endpoint: record, secret_sealed: secret ? seal(this.ctx.secretKey, secret) : null },
      }),
    );
    const view = this.view(await this.require(id));
    return secret ? { ...view, secret } : view;
  }

  async patch(p: Principal, id: string, body: z.output<typeof endpointPatchSchema>) {
    const current = await this.require(id, { live: true });
    // The route checked it is some channel's patch; this endpoint's channel may allow less.
    const checked = PATCH_SCHEMAS[current.channel].safeParse(body);
    if (!checked.success) throw new HeraldError('validation', `not a valid change of a ${current.channel} endpoint`, fieldErrors(checked.error.issues));
    const patch = checked.data as Partial<EndpointInput>;
    this.extras(current.channel, patch);
    const { enabled, ...rest } = patch as Partial<EndpointInput> & { enabled?: boolean };
    const changes = this.recordFields(rest);
    await this.ctx.store.transact(async (tx) => {
      if (Object.keys(changes).length > 0) {
        await tx.append({ kind: 'endpoint.updated', stream: id, actor: p.name, body: { id, changes } });
      }
      if (enabled !== undefined && enabled !== current.enabled) await this.appendEnabled(tx, p, id, enabled, null);
    });
    return this.view(await this.require(id));
  }

  async archive(p: Principal, id: string) {
    const current = await this.require(id);
    if (!current.archived_at) {
      await this.ctx.store.transact((tx) => tx.append({ kind: 'endpoint.archived', stream: id, actor: p.name, body: { id } }));
    }
    return this.view(await this.require(id));
  }

  async setEnabled(p: Principal, id: string, enabled: boolean, { reason }: z.output<typeof reasonSchema>) {
    const current = await this.require(id, { live: true });
    if (current.enabled !== enabled) await this.ctx.store.transact((tx) => this.appendEnabled(tx, p, id, enabled, reason ?? null));
    return this.view(await this.require(id));
  }

  async rotateSecret(p: Principal, id: string, input: z.output<typeof rotateSecretSchema>) {
    const current = await this.require(id, { live: true });
    if (current.channel !== 'webhook') throw new HeraldError('conflict', 'only webhook endpoints have a signing secret');
    const secret = input.secret ?? newSigningSecret();
    const grace = input.grace_s ?? this.ctx.config.HERALD_ROTATION_GRACE_S;
    const previousExpiresAt = new Date(this.ctx.clock().getTime() + grace * 1000).toISOString();
    await this.ctx.store.transact((tx) =>
      tx.append({
        kind: 'endpoint.secret_rotated',
        stream: id,
        actor: p.name,
        body: { id, secret_sealed: seal(this.ctx.secretKey, secret), previous_expires_at: previousExpiresAt },
      }),
    );
    return { id, secret, previous_secret_expires_at: previousExpiresAt };
  }

  async revealSecret(id: string) {
    // An archived endpoint signs nothing any more: its secret is not handed out.
    const e = await this.require(id, { live: true });
    if (!e.secret_sealed) throw new HeraldError('not_found', 'this endpoint has no signing secret (only webhook endpoints do)');
    let secrets: string[];
    try {
      secrets = this.signingSecrets(e, this.ctx.clock());
    } catch {
      throw new HeraldError('conflict', 'the signing secret cannot be opened with this encryption key (HERALD_ENCRYPTION_KEY or <db>.key)');
    }
    const [current, ...previous] = secrets;
    return {
      secret: current!,
      ...(previous.length > 0 ? { previous: [{ secret: previous[0]!, expires_at: e.prev_secret_expires_at }] } : {}),
    };
  }

  async get(id: string) {
    return this.view(await this.require(id));
  }

  async list(filters: EndpointFilters) {
    const page = await this.ctx.store.read.endpoints.listEndpoints(filters);
    return { data: page.data.map((e) => this.view(e)), next_cursor: page.next_cursor };
  }

  /** The secrets that sign a request now: the current one, plus the previous one during its grace period. */
  signingSecrets(e: StoredEndpoint, now: Date): string[] {
    if (!e.secret_sealed) return [];
    const secrets = [openSealed(this.ctx.secretKey, e.secret_sealed)];
    if (e.prev_secret_sealed && e.prev_secret_expires_at && Date.parse(e.prev_secret_expires_at) > now.getTime()) {
      secrets.push(openSealed(this.ctx.secretKey, e.prev_secret_sealed));
    }
    return secrets;
  }

  customHeaders(e: StoredEndpoint): Record<string, string> {
    return e.headers_sealed ? openJson<Record<string, string>>(this.ctx.secretKey, e.headers_sealed) : {};
  }

  smtpUrl(e: StoredEndpoint): string | null {
    return e.smtp_url_sealed ? openSealed(this.ctx.secretKey, e.smtp_url_sealed) : null;
  }

  view(e: StoredEndpoint) {
    const common = {
      id: e.id,
      channel: e.channel,
      description: e.description,
      events: e.events,
      users: e.users,
      subject: e.subject,
      timeout_ms: e.timeout_ms,
      retry: e.retry,
      rate_limit: e.rate_limit ?? null,
      template: e.template,
      enabled: e.enabled,
      disabled_reason: e.disabled_reason,
      health: { failing_since: e.failing_since, consecutive_dead: e.consecutive_dead },
      created_at: e.created_at,
      updated_at: e.updated_at,
      archived_at: e.archived_at,
    };
    switch (e.channel) {
      case 'webhook':
        return { ...common, url: e.url, headers: Object.fromEntries(e.header_names.map((n) => [n, REDACTED])) };
      case 'email':
        return { ...common, to: e.to, from: e.from, smtp_url: redactUrl(this.smtpUrl(e)), digest: e.digest };
      default:
        return { ...common, url: e.url, digest: e.digest };
    }
  }

  private async require(id: string, opts: { live?: boolean } = {}): Promise<StoredEndpoint> {
    const e = await this.ctx.store.read.endpoints.getEndpoint(id);
    if (!e) throw new HeraldError('not_found', `no endpoint ${id}`);
    if (opts.live && e.archived_at) throw new HeraldError('conflict', `endpoint ${id} is archived`);
    return e;
  }

  private extras(channel: EndpointInput['channel'], input: object): void {
    const errors = this.checkExtras(channel, input as Record<string, unknown>);
    if (errors.length > 0) throw new HeraldError('validation', 'the endpoint is not valid', errors);
  }

  private async appendEnabled(tx: Tx, p: Principal, id: string, enabled: boolean, reason: string | null): Promise<void> {
    await (enabled
      ? tx.append({ kind: 'endpoint.enabled', stream: id, actor: p.name, body: { id, reason } })
      : tx.append({ kind: 'endpoint.disabled', stream: id, actor: p.name, body: { id, reason, automatic: false } }));
  }

  /** Input fields (all or some, for a patch) as record fields, with secret material sealed. */
  private recordFields(input: Partial<EndpointInput>): Partial<EndpointRecord> {
    const out: Partial<EndpointRecord> = {};
    const i = input as Record<string, unknown>;
    const copy = ['url', 'to', 'from', 'events', 'users', 'subject', 'timeout_ms', 'retry', 'rate_limit', 'template', 'digest', 'description'] as const;
    for (const k of copy) if (k in i) (out as Record<string, unknown>)[k] = i[k] ?? (k === 'timeout_ms' ? DEFAULT_TIMEOUT_MS : null);
    if ('headers' in i) {
      const h = (i.headers ?? {}) as Record<string, string>;
      out.header_names = Object.keys(h);
      out.headers_sealed = Object.keys(h).length > 0 ? sealJson(this.ctx.secretKey, h) : null;
    }
    if ('smtp_url' in i) out.smtp_url_sealed = i.smtp_url ? seal(this.ctx.secretKey, i.smtp_url as string) : null;
    return out;
  }
}

function redactUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return REDACTED;
  }
}

/**
 * Inside a unit: disables an endpoint on herald's own judgement (circuit breaker, 410 Gone) and emits
 * `endpoint.disabled` so subscribers hear about it; false when it was not enabled. Re-enabling is an
 * operator action.
 */
export async function autoDisableEndpoint(
  tx: Tx,
  ctx: RecordingContext,
  endpoint: { id: string; channel: string; url: string | null },
  reason: string,
): Promise<boolean> {
  const current = await tx.getEndpoint(endpoint.id);
  if (!current || !current.enabled || current.archived_at) return false;
  await tx.append({ kind: 'endpoint.disabled', stream: endpoint.id, actor: SYSTEM.name, body: { id: endpoint.id, reason, automatic: true } });
  await emitHeraldEvent(tx, ctx, 'endpoint.disabled', endpoint.id, {
    endpoint_id: endpoint.id,
    channel: endpoint.channel,
    url: current.url,
    reason,
  });
  return true;
}
