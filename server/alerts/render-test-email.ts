/** PURE: the test email sent from Settings to check that SMTP and routing work. */
import { formatLocalTime } from '../format.ts';
import { escapeHtml, htmlPage } from './render-html.ts';
import type { RenderedEmail } from './render-incident.ts';

export function renderTestEmail(input: {
  publicUrl: string;
  actor: string;
  at: number;
  timeZone: string;
}): RenderedEmail {
  const when = formatLocalTime(input.at, input.timeZone);
  const line = `This is a test message from Keywatch, requested by ${input.actor} at ${when}.`;
  const after = 'If you can read it, alerts and digests will reach this address.';
  return {
    subject: '[Keywatch] Test message',
    text: `${line}\n${after}\n\n${input.publicUrl}\n`,
    html: htmlPage(
      'Keywatch test message',
      `<p>${escapeHtml(line)}</p><p>${escapeHtml(after)}</p><p><a href="${escapeHtml(input.publicUrl)}">${escapeHtml(input.publicUrl)}</a></p>`,
    ),
  };
}
