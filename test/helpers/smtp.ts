/** A real SMTP server on 127.0.0.1 for tests: records every message; can refuse on demand. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { type ParsedEmail, parseEmail } from './parse-email.ts';

export type TestSmtp = {
  url: string;
  received: ParsedEmail[];
  /** While true, connections are answered 421 (temporary failure), like a server that is down. */
  refuse: boolean;
  close(): Promise<void>;
};

export async function startSmtp(): Promise<TestSmtp> {
  const state: TestSmtp = { url: '', received: [], refuse: false, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      if (!state.refuse) return callback();
      const err = Object.assign(new Error('Service not available, try later'), { responseCode: 421 });
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const email = parseEmail(Buffer.concat(chunks).toString('utf8'));
        email.envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        state.received.push(email);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  state.url = `smtp://127.0.0.1:${port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
