// The demo's peers on 127.0.0.1: a webhook receiver that checks every request's Standard Webhooks
// signature with the `standardwebhooks` package (an implementation other than herald's), then answers
// the way its route is told to, and an SMTP sink that keeps the subject of every message.
import http from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';

/**
 * A receiver with one route per endpoint: `route(path, answer)` registers `answer(body)` →
 * `{ status, delayMs? }`, `secret(path, s)` gives the signing secret once herald has created the
 * endpoint. A request whose signature does not verify is answered 400 and counted as rejected.
 */
export async function startWebhookReceiver({ onRejected = () => {} } = {}) {
  const routes = new Map();
  const stats = { verified: 0, rejected: 0, answered: {} };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const route = routes.get(req.url);
      if (!route?.webhook) {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      let event;
      try {
        event = route.webhook.verify(body, req.headers);
      } catch (err) {
        stats.rejected++;
        onRejected(req.url, err);
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
        return;
      }
      stats.verified++;
      const { status, delayMs = 0, body: answer = '' } = route.answer(event);
      const send = () => {
        // herald may have given up on a slow answer (its timeout) and closed the connection
        if (res.destroyed) return;
        stats.answered[status] = (stats.answered[status] ?? 0) + 1;
        res.writeHead(status, answer ? { 'content-type': 'application/json' } : {}).end(answer);
      };
      if (delayMs > 0) setTimeout(send, delayMs).unref();
      else send();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    stats,
    route(path, answer) {
      routes.set(path, { answer, webhook: null });
      return `${url}${path}`;
    },
    secret(path, secret) {
      routes.get(path).webhook = new Webhook(secret);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An SMTP server without TLS or auth (loopback only) that parses each message and calls `onMail`. */
export async function startSmtpSink({ onMail = () => {} } = {}) {
  const stats = { emails: 0 };
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 100,
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          stats.emails++;
          onMail({ subject: mail.subject ?? '', to: session.envelope.rcptTo.map((r) => r.address) });
          cb(null, `queued as demo-${stats.emails}`);
        })
        .catch((err) => cb(err));
    },
  });
  server.on('error', () => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${server.server.address().port}`,
    stats,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
