/** The landing page until the dashboard pages exist: what Keywatch is and where the API lives. */
export function homePage(publicUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keywatch</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>Keywatch</h1>
<p>Watches the credit spend of every API key and raises the alarm when a key looks compromised.</p>
<ul>
<li><a href="${publicUrl}/api/v1/keys">/api/v1/keys</a>: registered and discovered keys (needs a token with the <code>read</code> scope)</li>
<li><a href="${publicUrl}/api/v1/usage?step=day&amp;group=key">/api/v1/usage</a>: usage totals</li>
<li><a href="${publicUrl}/healthz">/healthz</a>: liveness</li>
</ul>
</body></html>`;
}
