/**
 * Secrets the service signs with. An operator may set them; otherwise they are generated once
 * and kept (mode 0600) in the data folder, so tokens and URLs stay valid across restarts.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "./config.js";

export interface Secrets {
  tokenSecret: Uint8Array;
  urlSigningSecret: Uint8Array;
}

interface StoredSecrets {
  tokenSecret: string;
  urlSigningSecret: string;
}

export function loadSecrets(config: Config): Secrets {
  const file = path.join(config.dataDir, "secrets.json");
  let stored: StoredSecrets | undefined;
  if (config.tokenSecret === undefined || config.urlSigningSecret === undefined) {
    if (existsSync(file)) {
      stored = JSON.parse(readFileSync(file, "utf8")) as StoredSecrets;
    } else {
      stored = {
        tokenSecret: randomBytes(32).toString("hex"),
        urlSigningSecret: randomBytes(32).toString("hex"),
      };
      writeFileSync(file, JSON.stringify(stored), { mode: 0o600, flag: "wx" });
    }
  }
  const encoder = new TextEncoder();
  return {
    tokenSecret: encoder.encode(config.tokenSecret ?? stored!.tokenSecret),
    urlSigningSecret: encoder.encode(config.urlSigningSecret ?? stored!.urlSigningSecret),
  };
}
