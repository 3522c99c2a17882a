/**
 * Signed, expiring URLs for archive bytes. The URL itself is the authority (clients send no
 * token with it): an HMAC over the operation, the entry id and the expiry, so a URL opens one
 * entry for one purpose until it expires.
 *
 * Shape: `{origin}/blobs/{upload|download}/{entryId}?se={expiry}&sig={hmac}`. The Azure SDK and
 * OpenDAL need at least two path segments before the blob name and a query string.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { ServiceError } from "../errors.js";

export type BlobOperation = "upload" | "download";

export class UrlSigner {
  constructor(
    private readonly secret: Uint8Array,
    private readonly origin: string,
    private readonly ttlSeconds: number,
  ) {}

  sign(operation: BlobOperation, entryId: number, now = Date.now()): string {
    const expiry = Math.floor(now / 1000) + this.ttlSeconds;
    const sig = this.mac(operation, entryId, expiry);
    return `${this.origin}/blobs/${operation}/${entryId}?se=${expiry}&sig=${sig}`;
  }

  /** Throws a 403 saying why, unless the signature matches and has not expired. */
  verify(
    operation: BlobOperation,
    entryId: number,
    expiry: unknown,
    sig: unknown,
    now = Date.now(),
  ): void {
    if (
      typeof expiry !== "string" ||
      !/^\d{1,12}$/.test(expiry) ||
      typeof sig !== "string" ||
      sig === ""
    ) {
      throw new ServiceError("forbidden", "signed URL is missing its se or sig parameter");
    }
    const expected = Buffer.from(this.mac(operation, entryId, Number(expiry)));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ServiceError("forbidden", "signed URL signature does not match");
    }
    if (Number(expiry) * 1000 <= now) throw new ServiceError("forbidden", "signed URL has expired");
  }

  private mac(operation: BlobOperation, entryId: number, expiry: number): string {
    return createHmac("sha256", this.secret)
      .update(`${operation}\n${entryId}\n${expiry}`)
      .digest("base64url");
  }
}
