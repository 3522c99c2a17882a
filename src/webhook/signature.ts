/**
 * GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
 * Checked over the bytes as received, before anything is parsed, in constant time.
 */
import { verify } from "@octokit/webhooks-methods";

export async function signatureMatches(
  secret: string,
  rawBody: Buffer,
  header: unknown,
): Promise<boolean> {
  if (typeof header !== "string" || !header.startsWith("sha256=") || rawBody.length === 0)
    return false;
  // JSON is UTF-8; a body that is not valid UTF-8 changes on decoding and so fails to verify.
  return verify(secret, rawBody.toString("utf8"), header);
}
