/**
 * Secrets the service signs with. An operator may set them; otherwise they are generated once
 * and kept (mode 0600) in the data folder, so tokens and URLs stay valid across restarts and the
 * CLI and the server, sharing the folder, sign and verify with the same keys.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { MIN_SECRET_LENGTH, type Config } from "./config.js";

export interface Secrets {
  tokenSecret: Uint8Array;
  urlSigningSecret: Uint8Array;
}

interface StoredSecrets {
  tokenSecret: string;
  urlSigningSecret: string;
}

const SECRETS_FILE = "secrets.json";
/** 256 bits, the size of the HS256 and HMAC-SHA256 output. */
const GENERATED_SECRET_BYTES = 32;
const OWNER_ONLY = 0o600;

export function loadSecrets(config: Config): Secrets {
  let stored: StoredSecrets | undefined;
  if (config.tokenSecret === undefined || config.urlSigningSecret === undefined) {
    stored = readOrCreate(path.join(config.dataDir, SECRETS_FILE));
  }
  const encoder = new TextEncoder();
  return {
    tokenSecret: encoder.encode(config.tokenSecret ?? stored!.tokenSecret),
    urlSigningSecret: encoder.encode(config.urlSigningSecret ?? stored!.urlSigningSecret),
  };
}

/**
 * The first process to get here (server or CLI) creates the file; the rest read it. The new file
 * is written aside and hard-linked into place, which fails if the name exists, so two processes
 * starting together never see a half-written file nor overwrite each other's secrets.
 */
function readOrCreate(file: string): StoredSecrets {
  mkdirSync(path.dirname(file), { recursive: true });
  const fresh: StoredSecrets = {
    tokenSecret: randomBytes(GENERATED_SECRET_BYTES).toString("hex"),
    urlSigningSecret: randomBytes(GENERATED_SECRET_BYTES).toString("hex"),
  };
  const aside = `${file}.${randomUUID()}.tmp`;
  writeFileSync(aside, JSON.stringify(fresh), { mode: OWNER_ONLY, flag: "wx" });
  try {
    linkSync(aside, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(aside);
  }
  return parseStored(file);
}

function parseStored(file: string): StoredSecrets {
  let parsed: Partial<StoredSecrets> | undefined;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<StoredSecrets>;
  } catch {
    parsed = undefined;
  }
  const valid = (value: unknown) => typeof value === "string" && value.length >= MIN_SECRET_LENGTH;
  if (!parsed || !valid(parsed.tokenSecret) || !valid(parsed.urlSigningSecret)) {
    // Regenerating silently would log every runner out; the operator decides.
    throw new Error(
      `${file} is damaged: restore it, or delete it to generate new secrets ` +
        "(runner tokens and signed URLs issued so far then stop working)",
    );
  }
  return parsed as StoredSecrets;
}

/** Written by `serve`: which keys the server signs with, so the CLI can tell it uses others. */
const SERVER_KEYS_FILE = "server-keys.json";
/** A key id is an HMAC of this label: it names a key without revealing anything about it. */
const KEY_ID_LABEL = "gha-cache key id";
const KEY_ID_HEX_CHARS = 16;

function keyId(secret: Uint8Array): string {
  return createHmac("sha256", secret).update(KEY_ID_LABEL).digest("hex").slice(0, KEY_ID_HEX_CHARS);
}

/** Records the ids of the keys the server runs with (called by `serve` once it listens). */
export function recordServerKeys(dataDir: string, secrets: Secrets): void {
  const ids = { tokenKeyId: keyId(secrets.tokenSecret) };
  writeFileSync(path.join(dataDir, SERVER_KEYS_FILE), JSON.stringify(ids), { mode: OWNER_ONLY });
}

/**
 * Whether tokens minted with these secrets would be accepted by the server last started on this
 * data folder: false when the CLI runs without the server's GHA_CACHE_TOKEN_SECRET (or with
 * another one). Unknown (no server started yet) counts as a match.
 */
export function matchesServerKeys(dataDir: string, secrets: Secrets): boolean {
  let recorded: { tokenKeyId?: unknown };
  try {
    recorded = JSON.parse(
      readFileSync(path.join(dataDir, SERVER_KEYS_FILE), "utf8"),
    ) as typeof recorded;
  } catch {
    return true;
  }
  return recorded.tokenKeyId === keyId(secrets.tokenSecret);
}
