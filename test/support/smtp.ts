// A real SMTP server on 127.0.0.1 for tests (smtp-server), with each message parsed by mailparser.
// Recipients whose local part starts with a code are answered with it: 550-nobody@…, 451-later@….
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export interface Received {
  mail: ParsedMail;
  envelope: { from: string; to: string[] };
  secure: boolean;
  user: string | undefined;
}

export interface Smtp {
  port: number;
  url: string;
  received: Received[];
  connections: number;
  close(): Promise<void>;
}

/** Recipients whose local part starts with a code are answered with it: 550-nobody@…, 451-later@…. */
export function scriptedReply(address: string): Error | null {
  const m = /^([45]\d\d)-/.exec(address);
  if (!m) return null;
  const err = Object.assign(new Error(`mailbox ${address} says ${m[1]}`), { responseCode: Number(m[1]) });
  return err;
}

export async function startSmtp(options: Partial<SMTPServerOptions> = {}): Promise<Smtp> {
  const state = { received: [] as Received[], connections: 0 };
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 100,
    onConnect(_session, cb) {
      state.connections++;
      cb();
    },
    onRcptTo(address, _session, cb) {
      cb(scriptedReply(address.address));
    },
    onData(stream, session: SMTPServerSession, cb) {
      simpleParser(stream)
        .then((mail) => {
          const env = session.envelope;
          state.received.push({
            mail,
            envelope: { from: env.mailFrom ? env.mailFrom.address : '', to: env.rcptTo.map((r) => r.address) },
            secure: session.secure,
            user: session.user,
          });
          cb(null, 'queued as test-1');
        })
        .catch((err: Error) => cb(err));
    },
    ...options,
  });
  // A client giving up mid-handshake (an untrusted certificate) is reported here, not thrown.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    get received() {
      return state.received;
    },
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
