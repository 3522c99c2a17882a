/**
 * Blobs as files under the data folder. A write goes to a temporary file first and is renamed
 * into place, so a reader never sees half a blob and a re-sent block replaces the old one whole.
 */
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { badRequest, tooLarge } from "../errors.js";
import type { BlobStore, WriteLimits, WriteResult } from "./blob-store.js";

export class LocalBlobStore implements BlobStore {
  private readonly root: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, "blobs");
    this.tmp = path.join(dataDir, "tmp");
  }

  async write(name: string, body: Readable, limits: WriteLimits): Promise<WriteResult> {
    const target = this.pathOf(name);
    await mkdir(path.dirname(target), { recursive: true });
    await mkdir(this.tmp, { recursive: true });
    const temporary = path.join(this.tmp, randomUUID());
    const counter = new ByteLimit(limits);
    try {
      await pipeline(body, counter, createWriteStream(temporary, { flags: "wx" }));
      if (limits.exactBytes !== undefined && counter.size !== limits.exactBytes) {
        throw badRequest(`body has ${counter.size} bytes but ${limits.exactBytes} were announced`);
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { size: counter.size };
  }

  read(name: string, start: number, end: number): Readable {
    return createReadStream(this.pathOf(name), { start, end });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: prefix.endsWith("/"), force: true });
  }

  /** Blob names are built by the service from ids and hashes; this guards against a slip. */
  private pathOf(name: string): string {
    if (name.includes("..") || path.isAbsolute(name)) throw new Error(`unsafe blob name ${name}`);
    return path.join(this.root, name);
  }
}

/** Passes bytes through, failing as soon as more arrive than the limits allow. */
export class ByteLimit extends Transform {
  size = 0;

  constructor(private readonly limits: WriteLimits) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ): void {
    this.size += chunk.length;
    const { exactBytes, maxBytes } = this.limits;
    if (exactBytes !== undefined && this.size > exactBytes) {
      callback(badRequest(`body is longer than the ${exactBytes} bytes announced`));
    } else if (this.size > maxBytes) {
      callback(tooLarge(`body is larger than the limit of ${maxBytes} bytes`));
    } else {
      callback(null, chunk);
    }
  }
}
