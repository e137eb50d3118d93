/**
 * Sending one email: an interface, and its SMTP implementation with nodemailer. nodemailer is
 * loaded on the first send, not at start: it is a large module that most processes (every CLI
 * call, a server without SMTP) never use.
 */
import type { Transporter } from 'nodemailer';

export type MailMessage = {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
};

export type Mailer = { send(message: MailMessage): Promise<void>; close(): void };

/** Builds a mailer on demand; null when email is not configured (messages wait in the outbox). */
export type MailerFactory = () => Mailer | null;

export function smtpMailerFactory(smtpUrl: string | undefined): MailerFactory {
  let mailer: Mailer | null = null;
  return () => {
    if (!smtpUrl) return null;
    if (!mailer) {
      let transport: Promise<Transporter> | undefined;
      const transportOf = () =>
        (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
          nodemailer.createTransport({
            url: smtpUrl,
            connectionTimeout: 15_000,
            greetingTimeout: 15_000,
            socketTimeout: 30_000,
          }),
        ));
      mailer = {
        async send(m) {
          await (await transportOf()).sendMail({
            from: m.from,
            to: m.to,
            subject: m.subject,
            text: m.text,
            html: m.html,
            messageId: m.messageId,
            headers: m.headers,
          });
        },
        close: () => {
          void transport?.then((t) => t.close());
        },
      };
    }
    return mailer;
  };
}
