/**
 * Shared helpers for the attack suite: raw v1/v2 calls, whole saves, raw sockets, secret greps.
 * Every request goes to a server this suite started on 127.0.0.1.
 */
import assert from "node:assert/strict";
import net from "node:net";
import type { TestServer } from "../helpers/server.js";
import { TEST_WEBHOOK_SECRET } from "../helpers/server.js";
import { twirp } from "../protocol/v2-client.js";

export const VERSION = "v".repeat(64);
let counter = 0;
export const nextId = (): number => ++counter + Math.floor(Math.random() * 1e6) * 1000;

export interface Raw {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function http(
  url: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Raw> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: any;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** v1 call; `base` is the server url, or the url plus `/r/<token>`. */
export function v1(
  base: string,
  bearer: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Raw> {
  const h: Record<string, string> = { ...headers };
  if (bearer !== undefined) h.authorization = `Bearer ${bearer}`;
  let payload: BodyInit | undefined;
  if (body instanceof Uint8Array) {
    payload = body as BodyInit;
    h["content-type"] ??= "application/octet-stream";
  } else if (typeof body === "string") {
    payload = body;
    h["content-type"] ??= "application/json";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  return http(`${base}/_apis/artifactcache/${path}`, { method, headers: h, body: payload });
}

export async function v1Lookup(
  base: string,
  bearer: string | undefined,
  keys: string[],
  extra: Record<string, string> = {},
  query = "",
) {
  return v1(
    base,
    bearer,
    "GET",
    `cache?keys=${encodeURIComponent(keys.join(","))}&version=${VERSION}${query}`,
    undefined,
    extra,
  );
}

/** Reserve, upload one chunk, commit; returns each status and the id. */
export async function v1Save(
  base: string,
  bearer: string | undefined,
  key: string,
  bytes: Uint8Array = Buffer.from("poison"),
  headers: Record<string, string> = {},
) {
  const reserve = await v1(
    base,
    bearer,
    "POST",
    "caches",
    { key, version: VERSION, cacheSize: bytes.length },
    headers,
  );
  if (reserve.status !== 201)
    return { reserve: reserve.status, message: reserve.json?.message as string, id: 0 };
  const id = reserve.json.cacheId as number;
  const patch = await v1(base, bearer, "PATCH", `caches/${id}`, bytes, {
    ...headers,
    "content-range": `bytes 0-${bytes.length - 1}/*`,
  });
  const commit = await v1(base, bearer, "POST", `caches/${id}`, { size: bytes.length }, headers);
  return {
    reserve: reserve.status,
    patch: patch.status,
    commit: commit.status,
    id,
    message: commit.json?.message as string,
  };
}

export async function downloadText(url: string): Promise<Raw> {
  return http(url);
}

/** v2 save: create, Put Blob, finalize. */
export async function v2Save(
  server: TestServer,
  bearer: string,
  key: string,
  bytes = Buffer.from("v2-bytes"),
) {
  const created = await twirp(server.url, bearer, "CreateCacheEntry", { key, version: VERSION });
  if (created.json.ok !== true) return { created, url: undefined as string | undefined };
  const url = String(created.json.signed_upload_url);
  const put = await http(url, {
    method: "PUT",
    headers: { "x-ms-blob-type": "BlockBlob", "content-length": String(bytes.length) },
    body: bytes,
  });
  const finalized = await twirp(server.url, bearer, "FinalizeCacheEntryUpload", {
    key,
    version: VERSION,
    size_bytes: String(bytes.length),
  });
  return { created, url, put, finalized };
}

export async function v2Lookup(
  server: TestServer,
  bearer: string,
  key: string,
  restore: string[] = [],
) {
  return twirp(server.url, bearer, "GetCacheEntryDownloadURL", {
    key,
    restore_keys: restore,
    version: VERSION,
  });
}

/** Sends raw bytes on a fresh socket to the server and returns what came back (bounded in time). */
export function rawSocket(
  serverUrl: string,
  request: Buffer | string,
  waitMs = 3000,
): Promise<string> {
  const { hostname, port } = new URL(serverUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", done);
    socket.on("error", done);
    socket.write(request);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** No log line may hold any of these strings (tokens, signatures, the webhook secret). */
export function assertNoSecrets(server: TestServer, secrets: string[]): void {
  const all = [...secrets, TEST_WEBHOOK_SECRET].filter((s) => s.length >= 8);
  for (const line of server.rawLogs) {
    for (const secret of all) {
      assert.ok(
        !line.includes(secret),
        `a log line holds a secret (${secret.slice(0, 12)}...): ${line.slice(0, 300)}`,
      );
    }
  }
}

/** The sig= of a signed URL, and each dot-separated part of a JWT (a partial token is a leak too). */
export function secretsOf(tokens: string[], urls: string[]): string[] {
  const out: string[] = [];
  for (const token of tokens) {
    out.push(token);
    const parts = token.split(".");
    if (parts[2]) out.push(parts[2]);
  }
  for (const url of urls) {
    const sig = new URL(url).searchParams.get("sig");
    if (sig) out.push(sig);
  }
  return out;
}

/** No log line at error level for a client's mistake; returns the error lines. */
export function errorLines(server: TestServer): Record<string, unknown>[] {
  return server.logs.filter((line) => Number(line.level) >= 50);
}
