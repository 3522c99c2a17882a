/**
 * Data-plane benchmark: archive bytes through gha-cache's signed URLs, against references
 * measured in the same run on the same file.
 *
 *   upload:   Put Block x N (64 MiB blocks, 8 in flight, as the Azure SDK does) + Put Block List,
 *             against a plain disk copy of the same file (the floor for "receive and store").
 *   download: GET of the signed URL, against nginx serving the same file from disk, and against
 *             a plain disk read.
 *   memory:   the server's peak RSS (VmHWM) against the archive size.
 *
 * The server runs as its own process (the built CLI), so its memory is measured alone.
 * Usage: npm run bench:data-plane [-- --mib 512]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.js";
import { migrate, openSqlite } from "../src/db/database.js";
import { Uploads } from "../src/cache/uploads.js";
import { LocalBlobStore } from "../src/stores/local-blob-store.js";
import { UrlSigner } from "../src/dataplane/signed-url.js";
import { loadSecrets } from "../src/secrets.js";
import { writeRandomFile } from "../test/helpers/trees.js";

const MiB = 1024 * 1024;
const BLOCK_BYTES = 64 * MiB;
const BLOCKS_IN_FLIGHT = 8;
const ROUNDS = 3;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

/** Streams a file range as the body of a PUT and resolves with the status. */
function put(url: string, file: string, start: number, end: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: "PUT",
      headers: {
        "content-length": end - start + 1,
        "x-ms-blob-type": "BlockBlob",
        "x-ms-version": "2024-11-04",
      },
    });
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    createReadStream(file, { start, end }).pipe(request);
  });
}

function putBody(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: "PUT",
      headers: { "content-length": Buffer.byteLength(body) },
    });
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** GETs a URL and drains it; resolves with the byte count. */
function drain(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let bytes = 0;
        response.on("data", (chunk: Buffer) => (bytes += chunk.length));
        response.on("end", () =>
          response.statusCode === 200
            ? resolve(bytes)
            : reject(new Error(`GET ${response.statusCode}`)),
        );
      })
      .on("error", reject);
  });
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mib: { type: "string", default: "512" } } });
  const archiveBytes = Number(values.mib) * MiB;
  const work = await mkdtemp(path.join(tmpdir(), "gha-cache-bench-"));
  const dataDir = path.join(work, "data");
  const archive = path.join(work, "archive.bin");
  await writeRandomFile(archive, archiveBytes);
  // nginx's workers run unprivileged: they must be able to read the archive.
  await chmod(work, 0o755);
  await chmod(archive, 0o644);

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env = {
    GHA_CACHE_HOST: "127.0.0.1",
    GHA_CACHE_PORT: String(port),
    GHA_CACHE_DATA_DIR: dataDir,
    GHA_CACHE_LOG_LEVEL: "warn",
  };
  const config = loadConfig(env);
  // The bench prepares entries through the same store the server uses, then moves bytes over HTTP.
  const db = openSqlite(dataDir);
  await migrate(db);
  const secrets = loadSecrets(config);
  const uploads = new Uploads(db, new LocalBlobStore(dataDir), config.maxEntryBytes);
  const signer = new UrlSigner(secrets.urlSigningSecret, origin, 3600);

  // The CLI built beside this file, wherever the build went.
  const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const server: ChildProcess = spawn(process.execPath, [cli, "serve"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const nginxPort = await freePort();
  const nginxConf = path.join(work, "nginx.conf");
  await writeFile(
    nginxConf,
    `daemon off; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; server { listen 127.0.0.1:${nginxPort}; root ${work}; } }\n`,
  );
  const nginx =
    spawnSync("which", ["nginx"]).status === 0
      ? spawn("nginx", ["-c", nginxConf], { stdio: "ignore" })
      : undefined;

  try {
    await waitFor(`${origin}/healthz`);
    if (nginx) await waitFor(`http://127.0.0.1:${nginxPort}/nginx.conf`);
    const uploadMs: number[] = [];
    const copyMs: number[] = [];
    const downloadMs: number[] = [];
    const nginxMs: number[] = [];
    const readMs: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const entry = await uploads.reserve({
        repository: "bench/repo",
        scope: "refs/heads/main",
        key: `bench-${round}`,
        version: "v",
        declaredSize: null,
        saver: { runnerId: "bench", jobId: null },
      });
      const uploadUrl = signer.sign("upload", entry.id);
      const blockIds: string[] = [];
      uploadMs.push(
        await timed(async () => {
          const offsets: number[] = [];
          for (let offset = 0; offset < archiveBytes; offset += BLOCK_BYTES) offsets.push(offset);
          let next = 0;
          async function worker(): Promise<void> {
            while (next < offsets.length) {
              const index = next++;
              const offset = offsets[index]!;
              const id = Buffer.from(`block-${String(index).padStart(8, "0")}`).toString("base64");
              blockIds[index] = id;
              const status = await put(
                `${uploadUrl}&comp=block&blockid=${encodeURIComponent(id)}`,
                archive,
                offset,
                Math.min(offset + BLOCK_BYTES, archiveBytes) - 1,
              );
              if (status !== 201) throw new Error(`Put Block answered ${status}`);
            }
          }
          await Promise.all(Array.from({ length: BLOCKS_IN_FLIGHT }, worker));
          const list = `<?xml version="1.0" encoding="utf-8"?><BlockList>${blockIds.map((id) => `<Latest>${id}</Latest>`).join("")}</BlockList>`;
          const status = await putBody(`${uploadUrl}&comp=blocklist`, list);
          if (status !== 201) throw new Error(`Put Block List answered ${status}`);
        }),
      );
      await uploads.commit(await uploads.uploading(entry.id), archiveBytes);
      copyMs.push(
        await timed(() =>
          pipeline(createReadStream(archive), createWriteStream(path.join(work, `copy-${round}`))),
        ),
      );
      await rm(path.join(work, `copy-${round}`));

      const downloadUrl = signer.sign("download", entry.id);
      downloadMs.push(await timed(() => drain(downloadUrl)));
      if (nginx)
        nginxMs.push(await timed(() => drain(`http://127.0.0.1:${nginxPort}/archive.bin`)));
      readMs.push(
        await timed(async () => {
          for await (const chunk of createReadStream(archive)) void chunk;
        }),
      );
    }
    const peak = server.pid === undefined ? NaN : await peakRssMiB(server.pid);
    const mibps = (ms: number) => (archiveBytes / MiB / (ms / 1000)).toFixed(0);
    const up = median(uploadMs);
    const down = median(downloadMs);
    const lines = [
      `archive: ${values.mib} MiB, ${ROUNDS} rounds, medians`,
      `upload   (Put Block x${Math.ceil(archiveBytes / BLOCK_BYTES)}, ${BLOCKS_IN_FLIGHT} in flight): ${up.toFixed(0)} ms = ${mibps(up)} MiB/s`,
      `  disk copy reference: ${median(copyMs).toFixed(0)} ms; ratio gha-cache/copy = ${(up / median(copyMs)).toFixed(2)}`,
      `download (GET signed URL): ${down.toFixed(0)} ms = ${mibps(down)} MiB/s`,
      nginx
        ? `  nginx reference: ${median(nginxMs).toFixed(0)} ms; ratio gha-cache/nginx = ${(down / median(nginxMs)).toFixed(2)}`
        : "  nginx not installed: no nginx reference",
      `  disk read reference: ${median(readMs).toFixed(0)} ms; ratio gha-cache/read = ${(down / median(readMs)).toFixed(2)}`,
      `server peak RSS: ${peak.toFixed(0)} MiB for ${values.mib} MiB archives x ${ROUNDS} (ratio ${(peak / (archiveBytes / MiB)).toFixed(2)})`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    server.kill("SIGTERM");
    nginx?.kill("SIGTERM");
    await db.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
