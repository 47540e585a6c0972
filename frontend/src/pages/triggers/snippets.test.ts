// @ts-ignore -- Vitest runs in Node; the app itself has no @types/node.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { curlExample, sampleBody, shQuote } from "./snippets";

describe("curlExample", () => {
  it("quotes for sh", () => {
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
  });

  it("sends the secret as a bearer token in bearer mode", () => {
    const text = curlExample({ url: "http://x/hooks/k", authMode: "bearer", secret: "whsec_abc" });
    expect(text).toContain("SECRET='whsec_abc'");
    expect(text).toContain('-H "Authorization: Bearer $SECRET"');
  });

  it("reads the secret from the environment once it is no longer shown", () => {
    expect(curlExample({ url: "http://x", authMode: "signature" })).toContain('SECRET="$TRELLIS_WEBHOOK_SECRET"');
  });

  it("has no auth header in none mode", () => {
    expect(curlExample({ url: "http://x", authMode: "none", body: { a: 1 } })).toBe(
      "curl -sS -X POST 'http://x' \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"a\":1}'",
    );
  });

  it("computes the Standard Webhooks signature in sh exactly as HMAC-SHA256 over id.timestamp.body", async () => {
    const key = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
    const secret = `whsec_${btoa(String.fromCharCode(...key))}`;
    // Run the signing lines of the example with a fixed id and timestamp, then print the signature.
    const script = curlExample({ url: "http://x", authMode: "signature", secret, body: { message: "hé 'quoted'" } })
      .split("\n")
      .filter((l) => !l.startsWith("curl") && !l.startsWith("  "))
      .map((l) => (l.startsWith("ID=") ? "ID=msg_1" : l.startsWith("TS=") ? "TS=1700000000" : l))
      .concat(['printf "%s" "$SIG"'])
      .join("\n");
    const sig = String(execFileSync("sh", ["-c", script]));
    const body = JSON.stringify({ message: "hé 'quoted'" });
    const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(`msg_1.1700000000.${body}`)));
    const expected = btoa(String.fromCharCode(...mac));
    expect(sig).toBe(expected);
  });
});

describe("sampleBody", () => {
  it("fills each property of the start schema by type", () => {
    expect(
      sampleBody({ properties: { message: { type: "string" }, n: { type: "integer" }, tier: { type: "string", enum: ["gold"] } } }),
    ).toEqual({ message: "Hello from Trellis", n: 1, tier: "gold" });
    expect(sampleBody(undefined)).toEqual({ message: "Hello from Trellis" });
  });
});
