/**
 * A TLS-terminating reverse proxy on 127.0.0.1, as an operator would put nginx or Caddy in front of
 * Keywatch: HTTPS outside with a self-signed certificate (made by openssl), plain HTTP to the
 * target, and X-Forwarded-For / -Proto / -Host added. Every connection reaches it from 127.0.0.1,
 * so `clientAddress` stands for the address the proxy saw on the internet: the one it forwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TlsProxy = {
  /** `https://127.0.0.1:<port>`: the public URL. */
  url: string;
  /** Where requests go; set once the target listens (it needs the proxy's URL first). */
  target: string;
  /** The client address the proxy forwards in X-Forwarded-For. */
  clientAddress: string;
  /** The certificate, for clients that should trust it. */
  cert: Buffer;
  close(): Promise<void>;
};

/** A self-signed certificate for 127.0.0.1 (an IP subjectAltName, as browsers require). */
function selfSigned(dir: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'pipe' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

export async function startTlsProxy(): Promise<TlsProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-tls-'));
  const { key, cert } = selfSigned(dir);
  const proxy: TlsProxy = {
    url: '',
    target: '',
    clientAddress: '198.51.100.23',
    cert,
    close: async () => {},
  };
  const server = https.createServer({ key, cert }, (req, res) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${prior}, ${proxy.clientAddress}` : proxy.clientAddress;
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    const target = new URL(req.url ?? '/', proxy.target);
    const upstream = http.request(target, { method: req.method, headers }, (answer) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers))
        if (!HOP_BY_HOP.has(name)) out[name] = value;
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  return proxy;
}
