// The endpoint form (create and edit): the fields of every channel, with the API's messages beside
// them, and the fields of an existing endpoint (its sealed values are not shown).
import { CHANNELS, type Channel } from '../../domain/endpoint.js';
import type { EndpointsService } from '../../services/endpoints.js';
import { type FormErrors, type FormFields, NO_RETRIES } from '../endpoint-form.js';
import { CsrfField } from '../layout.js';

type EndpointView = ReturnType<EndpointsService['view']>;

function Field(props: { name: string; label: string; f: FormFields; errors: FormErrors; hint?: string; type?: string; textarea?: boolean; required?: boolean }) {
  const err = props.errors[props.name];
  const id = `f-${props.name}`;
  const describedBy = [props.hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <label for={id}>
      {props.label}
      {props.textarea ? (
        <textarea id={id} name={props.name} aria-invalid={err ? 'true' : undefined} aria-describedby={describedBy}>
          {props.f[props.name] ?? ''}
        </textarea>
      ) : (
        <input id={id} type={props.type ?? 'text'} name={props.name} value={props.f[props.name] ?? ''} required={props.required} aria-invalid={err ? 'true' : undefined} aria-describedby={describedBy} />
      )}
      {props.hint && (
        <span id={`${id}-hint`} class="muted">
          {props.hint}
        </span>
      )}
      {err && (
        <span id={`${id}-err`} class="field-error">
          {err}
        </span>
      )}
    </label>
  );
}

export function EndpointForm(props: { channel: Channel | null; f: FormFields; errors: FormErrors; csrf: string; action: string; editing: boolean; message?: string | undefined }) {
  const { f, errors } = props;
  const ch = props.channel;
  const unplaced = Object.entries(errors).filter(([k]) => !['channel', 'url', 'to', 'from', 'smtp_url', 'events', 'users', 'subject', 'description', 'timeout_ms', 'retry_schedule', 'rate_limit_per_second', 'headers', 'template'].includes(k));
  return (
    <form method="post" action={props.action} novalidate>
      <CsrfField token={props.csrf} />
      {props.message && (
        <p class="error" role="alert">
          {props.message}
        </p>
      )}
      {unplaced.length > 0 && (
        <ul class="error">
          {unplaced.map(([k, v]) => (
            <li>
              {k}: {v}
            </li>
          ))}
        </ul>
      )}
      {!props.editing && (
        <fieldset>
          <legend>Channel</legend>
          {CHANNELS.map((c) => (
            <label class="inline">
              <span>
                <input type="radio" name="channel" value={c} checked={(ch ?? 'webhook') === c} /> {c}
              </span>
            </label>
          ))}
          <p class="muted">Fields another channel does not use are ignored.</p>
        </fieldset>
      )}
      <div class="form-grid">
        {(ch === null || ch !== 'email') && <Field name="url" label="URL (webhook, Slack, Discord)" f={f} errors={errors} type="url" />}
        {(ch === null || ch === 'email') && <Field name="to" label="To (email; comma separated)" f={f} errors={errors} />}
        {(ch === null || ch === 'email') && <Field name="from" label="From (email)" f={f} errors={errors} hint="one mailbox, e.g. jobs <noreply@example.com>" />}
        {(ch === null || ch === 'email') && <Field name="smtp_url" label="SMTP URL (email)" f={f} errors={errors} hint={props.editing ? 'blank keeps the current one' : 'blank uses the default transport'} />}
        <Field name="events" label="Events" f={f} errors={errors} hint="comma separated: *, job.failed, job.*" required />
        <Field name="users" label="Users" f={f} errors={errors} textarea hint="one per line; blank: any user" />
        <Field name="subject" label="Subject" f={f} errors={errors} hint="blank: any subject" />
        <Field name="description" label="Description" f={f} errors={errors} />
        <Field name="timeout_ms" label="Timeout (ms)" f={f} errors={errors} type="number" />
        <Field name="retry_schedule" label="Retry schedule (seconds)" f={f} errors={errors} hint={`e.g. 5, 30, 120; ${NO_RETRIES}: no retries; blank: the default`} />
        <Field name="rate_limit_per_second" label="Rate limit (per second)" f={f} errors={errors} type="number" hint="blank: none" />
      </div>
      {(ch === null || ch === 'webhook') && <Field name="headers" label="Custom headers (webhook; JSON object)" f={f} errors={errors} textarea hint={props.editing ? 'blank keeps the current ones (they are secret and not shown)' : ''} />}
      <Field name="template" label="Template (JSON object)" f={f} errors={errors} textarea />
      {!props.editing && (
        <label class="inline">
          <span>
            <input type="checkbox" name="enabled" checked={f.enabled === 'on'} /> enabled
          </span>
        </label>
      )}
      <p>
        <button type="submit">{props.editing ? 'Save changes' : 'Create endpoint'}</button>
      </p>
    </form>
  );
}

/** The form's fields for an existing endpoint (sealed values are not shown). */
export function fieldsOf(e: EndpointView): FormFields {
  return {
    url: 'url' in e && e.url ? e.url : '',
    to: 'to' in e && e.to ? e.to.join(', ') : '',
    from: 'from' in e && e.from ? e.from : '',
    events: e.events.join(', '),
    users: e.users?.join('\n') ?? '',
    subject: e.subject ?? '',
    description: e.description ?? '',
    timeout_ms: String(e.timeout_ms),
    retry_schedule: e.retry && 'schedule_s' in e.retry ? e.retry.schedule_s.join(', ') || NO_RETRIES : '',
    rate_limit_per_second: e.rate_limit ? String(e.rate_limit.per_second) : '',
    template: e.template ? JSON.stringify(e.template, null, 2) : '',
  };
}
