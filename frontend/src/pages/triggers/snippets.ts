/**
 * Ready-to-paste examples for calling a webhook trigger: a curl command (POSIX sh + openssl for the
 * Standard Webhooks signature) and a signing snippet in Python and Node. While the secret is on screen it is
 * filled in; afterwards the examples read it from $TRELLIS_WEBHOOK_SECRET.
 */
import type { AuthMode } from "../../api/screens";

export const SECRET_ENV = "TRELLIS_WEBHOOK_SECRET";

/** Quote a value for POSIX sh in single quotes. */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function curlExample(opts: { url: string; authMode: AuthMode; secret?: string | null; body?: unknown }): string {
  const body = JSON.stringify(opts.body ?? { message: "Hello from curl" });
  const secretLine = opts.secret ? `SECRET=${shQuote(opts.secret)}` : `SECRET="$${SECRET_ENV}"`;
  if (opts.authMode === "none") {
    return [`curl -sS -X POST ${shQuote(opts.url)} \\`, `  -H 'Content-Type: application/json' \\`, `  -d ${shQuote(body)}`].join("\n");
  }
  if (opts.authMode === "bearer") {
    return [
      secretLine,
      `curl -sS -X POST ${shQuote(opts.url)} \\`,
      `  -H "Authorization: Bearer $SECRET" \\`,
      `  -H 'Content-Type: application/json' \\`,
      `  -d ${shQuote(body)}`,
    ].join("\n");
  }
  return [
    secretLine,
    `BODY=${shQuote(body)}`,
    `ID="msg_$(date +%s)_$$"`,
    `TS="$(date +%s)"`,
    `KEY="$(printf '%s' "\${SECRET#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \\n')"`,
    `SIG="$(printf '%s' "$ID.$TS.$BODY" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY" -binary | base64)"`,
    `curl -sS -X POST ${shQuote(opts.url)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H "webhook-id: $ID" \\`,
    `  -H "webhook-timestamp: $TS" \\`,
    `  -H "webhook-signature: v1,$SIG" \\`,
    `  -d "$BODY"`,
  ].join("\n");
}

export function pythonSigningSnippet(url: string): string {
  return `import base64, hashlib, hmac, json, os, time, uuid, urllib.request

secret = os.environ["${SECRET_ENV}"]  # whsec_…
body = json.dumps({"message": "Hello from Python"}).encode()
msg_id, ts = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
key = base64.b64decode(secret.removeprefix("whsec_"))
sig = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
req = urllib.request.Request(${JSON.stringify(url)}, data=body, method="POST", headers={
    "Content-Type": "application/json",
    "webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": f"v1,{sig}",
})
print(urllib.request.urlopen(req).read().decode())`;
}

export function nodeSigningSnippet(url: string): string {
  return `import crypto from "node:crypto";

const secret = process.env.${SECRET_ENV}; // whsec_…
const body = JSON.stringify({ message: "Hello from Node" });
const id = \`msg_\${crypto.randomUUID()}\`;
const ts = Math.floor(Date.now() / 1000).toString();
const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
const sig = crypto.createHmac("sha256", key).update(\`\${id}.\${ts}.\${body}\`).digest("base64");
const res = await fetch(${JSON.stringify(url)}, {
  method: "POST",
  headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": \`v1,\${sig}\` },
  body,
});
console.log(res.status, await res.text());`;
}

/** A sample body from the start node's input schema, so the example passes input validation. */
export function sampleBody(schema: { properties?: Record<string, { type?: string | string[]; default?: unknown; enum?: unknown[] }> } | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema?.properties ?? {})) {
    const t = Array.isArray(s.type) ? s.type[0] : s.type;
    out[k] =
      s.default ?? s.enum?.[0] ?? (t === "number" || t === "integer" ? 1 : t === "boolean" ? true : t === "object" ? {} : t === "array" ? [] : "Hello from Trellis");
  }
  return Object.keys(out).length ? out : { message: "Hello from Trellis" };
}
