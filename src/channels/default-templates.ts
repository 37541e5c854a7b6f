// herald's default templates per channel (single event and digest), used when an endpoint has none.
// Liquid, rendered with the variables described in templates.ts.
import type { Channel } from '../domain/endpoint.js';

// Literal text is never escaped; every {{ value }} is, per channel.
const STATUS_WORD = `{% if status == 'success' %} — succeeded{% elsif status == 'failure' %} — failed{% endif %}`;
const ITEM_STATUS_WORD = `{% if e.status == 'success' %} — succeeded{% elsif e.status == 'failure' %} — failed{% endif %}`;
const DIGEST_SUMMARY =
  `{{ digest.count }} event{% if digest.count != 1 %}s{% endif %}` +
  `{% if digest.counts.failure > 0 %}, {{ digest.counts.failure }} failed{% endif %}`;
const COLOR =
  `{%- if status == 'success' %}{% assign color = '#1a7f37' %}{% elsif status == 'failure' %}{% assign color = '#cf222e' %}` +
  `{% else %}{% assign color = '#0969da' %}{% endif -%}`;
const FONT = `font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif`;
const TH = `style="text-align:left;padding:4px 16px 4px 0;color:#59636e;font-weight:normal;vertical-align:top;"`;
const TD = `style="padding:4px 0;"`;
const FOOTER_TEXT = `-- \nherald · delivery {{ delivery.id }} · attempt {{ delivery.attempt }}`;
const FOOTER_HTML = `<p style="color:#59636e;font-size:12px;margin-top:24px;">herald · delivery {{ delivery.id }} · attempt {{ delivery.attempt }}</p>`;

const htmlRow = (label: string, value: string, condition?: string) =>
  condition
    ? `{%- if ${condition} %}\n<tr><th ${TH}>${label}</th><td ${TD}>${value}</td></tr>\n{%- endif %}`
    : `\n<tr><th ${TH}>${label}</th><td ${TD}>${value}</td></tr>`;

const EMAIL_TEXT = `{{ event.type }}{% if event.subject %}: {{ event.subject }}{% endif %}

Status:  {{ status }}
Type:    {{ event.type }}
{%- if event.subject %}
Subject: {{ event.subject }}
{%- endif %}
{%- if event.user %}
User:    {{ event.user }}
{%- endif %}
{%- if event.source %}
Source:  {{ event.source }}
{%- endif %}
Time:    {{ event.time }}
{%- if link %}
Link:    {{ link }}
{%- endif %}
Event:   {{ event.id }}

Data:
{{ data | json: 2 }}

${FOOTER_TEXT}
`;

const EMAIL_HTML = `${COLOR}
<!DOCTYPE html>
<html>
<body style="margin:0;padding:16px;${FONT};color:#1f2328;">
<div style="border-left:4px solid {{ color }};padding:4px 16px;">
<h2 style="margin:0 0 4px;color:{{ color }};">{{ event.type }}</h2>
{%- if event.subject %}
<p style="margin:0 0 12px;font-size:16px;">{{ event.subject }}</p>
{%- endif %}
<table style="border-collapse:collapse;font-size:14px;">` +
  htmlRow('Status', `<strong style="color:{{ color }};">{{ status }}</strong>`) +
  htmlRow('Type', '{{ event.type }}') +
  htmlRow('Subject', '{{ event.subject }}', 'event.subject') +
  htmlRow('User', '{{ event.user }}', 'event.user') +
  htmlRow('Source', '{{ event.source }}', 'event.source') +
  htmlRow('Time', '{{ event.time }}') +
  htmlRow('Link', '<a href="{{ link }}">{{ link }}</a>', 'link') +
  htmlRow('Event', '<code>{{ event.id }}</code>') +
  `
</table>
<h3 style="margin:16px 0 8px;font-size:14px;">Data</h3>
<pre style="margin:0;background:#f6f8fa;padding:12px;border-radius:6px;font-size:12px;white-space:pre-wrap;">{{ data | json: 2 }}</pre>
</div>
${FOOTER_HTML}
</body>
</html>
`;

const EMAIL_DIGEST_TEXT = `herald digest: ${DIGEST_SUMMARY}
{% for e in digest.events %}
- {{ e.time }}  {{ e.type }}{% if e.subject %}  {{ e.subject }}{% endif %}{% if e.user %} ({{ e.user }}){% endif %} — {{ e.status }}{% if e.link %}  {{ e.link }}{% endif %}
{%- endfor %}

${FOOTER_TEXT}
`;

const EMAIL_DIGEST_HTML = `<!DOCTYPE html>
<html>
<body style="margin:0;padding:16px;${FONT};color:#1f2328;">
<h2 style="margin:0 0 12px;">herald digest: ${DIGEST_SUMMARY}</h2>
<table style="border-collapse:collapse;font-size:14px;">
<tr><th ${TH}>Time</th><th ${TH}>Type</th><th ${TH}>Subject</th><th ${TH}>User</th><th ${TH}>Status</th><th ${TH}>Link</th></tr>
{%- for e in digest.events %}
{%- if e.status == 'success' %}{% assign color = '#1a7f37' %}{% elsif e.status == 'failure' %}{% assign color = '#cf222e' %}{% else %}{% assign color = '#0969da' %}{% endif %}
<tr style="border-top:1px solid #d1d9e0;"><td ${TD}>{{ e.time }}</td><td ${TD}>{{ e.type }}</td><td ${TD}>{{ e.subject }}</td><td ${TD}>{{ e.user }}</td><td ${TD}><strong style="color:{{ color }};">{{ e.status }}</strong></td><td ${TD}>{% if e.link %}<a href="{{ e.link }}">open</a>{% endif %}</td></tr>
{%- endfor %}
</table>
${FOOTER_HTML}
</body>
</html>
`;

const chatSingle = (bold: string) =>
  `${bold}{{ event.type }}${bold}{% if event.subject %} {{ event.subject }}{% endif %}{% if event.user %} ({{ event.user }}){% endif %}${STATUS_WORD}` +
  `{% if link %}\n{{ link }}{% endif %}`;

const chatDigest = (bold: string) =>
  `${bold}herald digest${bold}: ${DIGEST_SUMMARY}{% for e in digest.events %}\n• ${bold}{{ e.type }}${bold}{% if e.subject %} {{ e.subject }}{% endif %}` +
  `{% if e.user %} ({{ e.user }}){% endif %}${ITEM_STATUS_WORD}{% if e.link %} {{ e.link }}{% endif %}{% endfor %}`;

export type TemplatePart = 'subject' | 'text' | 'html' | 'body';

export type Parts = Partial<Record<TemplatePart, string>>;

/** herald's own templates, per channel, for one event and for a digest. Webhooks default to a JSON body built in code. */
export const DEFAULT_TEMPLATES: Record<Channel, { single: Parts; digest: Parts }> = {
  webhook: { single: {}, digest: {} },
  email: {
    single: { subject: '[herald] {{ event.type }}{% if event.subject %}: {{ event.subject }}{% endif %}', text: EMAIL_TEXT, html: EMAIL_HTML },
    digest: { subject: `[herald] digest: ${DIGEST_SUMMARY}`, text: EMAIL_DIGEST_TEXT, html: EMAIL_DIGEST_HTML },
  },
  slack: { single: { text: chatSingle('*') }, digest: { text: chatDigest('*') } },
  discord: { single: { text: chatSingle('**') }, digest: { text: chatDigest('**') } },
};
