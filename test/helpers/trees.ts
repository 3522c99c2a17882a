/**
 * Directory trees to cache in tests, and a byte-for-byte comparison of two trees.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `gha-cache-${prefix}-`));
}

/** `count` small files (a few hundred bytes each) spread over nested folders. */
export async function writeSmallFiles(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const dir = path.join(root, `pkg-${i % 37}`, `mod-${i % 11}`);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, `file-${i}.txt`),
      `${i}:${randomBytes(64 + (i % 200)).toString("hex")}\n`,
    );
  }
}

/** One file of `bytes` random (so incompressible) bytes, written in 1 MiB pieces. */
export async function writeRandomFile(file: string, bytes: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  let left = bytes;
  async function* pieces() {
    while (left > 0) {
      const size = Math.min(left, 1024 * 1024);
      left -= size;
      yield randomBytes(size);
    }
  }
  await pipeline(Readable.from(pieces()), createWriteStream(file));
}

/** Relative path -> sha256 of every file under `root`. */
export async function digestTree(root: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) digests.set(path.relative(root, full), await digestFile(full));
    }
  }
  await walk(root);
  return digests;
}

export async function digestFile(file: string): Promise<string> {
  const info = await stat(file);
  if (info.size < 1024 * 1024)
    return createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}
