/**
 * Configuration as loadConfig reads it: defaults, accepted forms, and a message naming the
 * variable for every value it refuses. All problems are reported together, never one per start.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { ConfigError, GiB, loadConfig } from "../../src/config.js";

const SECRET = "s".repeat(32);
let folder: string;
let keyFile: string;
let pem: string;

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "gha-cache-config-"));
  pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs1",
    format: "pem",
  }) as string;
  keyFile = path.join(folder, "app.pem");
  await writeFile(keyFile, pem);
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail(`configuration was accepted: ${JSON.stringify(env)}`);
}

function assertRefused(env: Record<string, string>, message: RegExp): void {
  const problems = problemsOf(env);
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0] ?? "", message);
}

test("an empty environment gives the embedded defaults", () => {
  const config = loadConfig({});
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.port, 3000);
  assert.equal(config.publicUrl, "http://127.0.0.1:3000");
  assert.equal(config.publicUrlConfigured, false);
  assert.equal(config.dataDir, path.resolve("data"));
  assert.equal(config.tokenSecret, undefined);
  assert.equal(config.webhookSecret, undefined);
  assert.equal(config.github, undefined);
  assert.equal(config.maxEntryBytes, 10 * GiB);
  assert.equal(config.logLevel, "info");
});

test("the public URL is kept as an origin, without its trailing slash", () => {
  const config = loadConfig({ GHA_CACHE_PUBLIC_URL: "https://Cache.Example.com:8443/" });
  assert.equal(config.publicUrl, "https://cache.example.com:8443");
  assert.equal(config.publicUrlConfigured, true);
});

test("a port out of range or not a number is refused, naming GHA_CACHE_PORT", () => {
  for (const value of ["65536", "-1", "80a", "3e3", "1.5"]) {
    assertRefused(
      { GHA_CACHE_PORT: value },
      /^GHA_CACHE_PORT must be a whole number from 0 to 65535/,
    );
  }
});

test("every numeric setting checks its range", () => {
  assertRefused({ GHA_CACHE_MAX_ENTRY_BYTES: "0" }, /^GHA_CACHE_MAX_ENTRY_BYTES must be/);
  assertRefused(
    { GHA_CACHE_UPLOAD_TIMEOUT_SECONDS: "999999999" },
    /^GHA_CACHE_UPLOAD_TIMEOUT_SECONDS must be/,
  );
  assertRefused(
    { GHA_CACHE_SIGNED_URL_TTL_SECONDS: "0" },
    /^GHA_CACHE_SIGNED_URL_TTL_SECONDS must be/,
  );
  assertRefused({ GHA_CACHE_RESOLVE_BUDGET_MS: "5" }, /^GHA_CACHE_RESOLVE_BUDGET_MS must be/);
  assertRefused({ GHA_CACHE_NEGATIVE_CACHE_MS: "ten" }, /^GHA_CACHE_NEGATIVE_CACHE_MS must be/);
  assertRefused(
    { GHA_CACHE_HOUSEKEEPING_INTERVAL_SECONDS: "0" },
    /^GHA_CACHE_HOUSEKEEPING_INTERVAL_SECONDS must be/,
  );
});

test("a public URL that is not an http(s) origin is refused", () => {
  assertRefused(
    { GHA_CACHE_PUBLIC_URL: "cache.example.com" },
    /^GHA_CACHE_PUBLIC_URL must be an absolute http\(s\) URL/,
  );
  assertRefused(
    { GHA_CACHE_PUBLIC_URL: "ftp://cache.example.com" },
    /^GHA_CACHE_PUBLIC_URL must use http or https/,
  );
  assertRefused(
    { GHA_CACHE_PUBLIC_URL: "https://cache.example.com/gha" },
    /^GHA_CACHE_PUBLIC_URL must be an origin without a path/,
  );
  assertRefused(
    { GHA_CACHE_PUBLIC_URL: "https://cache.example.com/?a=1" },
    /^GHA_CACHE_PUBLIC_URL must not carry a query/,
  );
});

test("a URL with a password is refused without repeating the password", () => {
  const problems = problemsOf({
    GHA_CACHE_PUBLIC_URL: "https://user:hunter2-secret@cache.example.com",
  });
  assert.match(problems.join("\n"), /GHA_CACHE_PUBLIC_URL must not carry a user name or password/);
  assert.ok(!problems.join("\n").includes("hunter2-secret"));
});

test("a listen host with a port or odd characters is refused", () => {
  assertRefused(
    { GHA_CACHE_HOST: "0.0.0.0:3000" },
    /^GHA_CACHE_HOST must be an IP address or host name/,
  );
  assert.equal(loadConfig({ GHA_CACHE_HOST: "::" }).host, "::");
  assert.equal(loadConfig({ GHA_CACHE_HOST: "cache-1.internal" }).host, "cache-1.internal");
});

test("secrets shorter than 32 characters are refused without being repeated", () => {
  for (const name of [
    "GHA_CACHE_TOKEN_SECRET",
    "GHA_CACHE_URL_SIGNING_SECRET",
    "GHA_CACHE_WEBHOOK_SECRET",
  ]) {
    const problems = problemsOf({ [name]: "short-secret-value" });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", new RegExp(`^${name} must be at least 32 characters long`));
    assert.ok(!problems[0]?.includes("short-secret-value"));
  }
  assert.equal(loadConfig({ GHA_CACHE_TOKEN_SECRET: SECRET }).tokenSecret, SECRET);
});

test("an unknown log level is refused, naming GHA_CACHE_LOG_LEVEL", () => {
  assertRefused(
    { GHA_CACHE_LOG_LEVEL: "verbose" },
    /^GHA_CACHE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/,
  );
});

test("an unknown GHA_CACHE_ variable is refused as a likely typo", () => {
  assertRefused({ GHA_CACHE_PORTT: "3000" }, /^GHA_CACHE_PORTT is not a gha-cache setting/);
});

test("a GitHub App key file without an App id is refused, naming GHA_CACHE_GITHUB_APP_ID", () => {
  assertRefused(
    { GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: keyFile },
    /^GHA_CACHE_GITHUB_APP_ID is required/,
  );
});

test("an App id without a key is refused, naming the key variables", () => {
  assertRefused(
    { GHA_CACHE_GITHUB_APP_ID: "123" },
    /^GHA_CACHE_GITHUB_PRIVATE_KEY_FILE \(or GHA_CACHE_GITHUB_PRIVATE_KEY\) is required/,
  );
});

test("an unreadable key file is refused, naming GHA_CACHE_GITHUB_PRIVATE_KEY_FILE", () => {
  assertRefused(
    {
      GHA_CACHE_GITHUB_APP_ID: "123",
      GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: path.join(folder, "missing.pem"),
    },
    /^GHA_CACHE_GITHUB_PRIVATE_KEY_FILE cannot be read \(ENOENT\)/,
  );
});

test("a key that is not a PEM private key is refused without quoting it", async () => {
  const broken = path.join(folder, "broken.pem");
  await writeFile(broken, pem.slice(0, pem.length / 2));
  const problems = problemsOf({
    GHA_CACHE_GITHUB_APP_ID: "123",
    GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: broken,
  });
  assert.equal(problems.length, 1);
  assert.match(
    problems[0] ?? "",
    /^GHA_CACHE_GITHUB_PRIVATE_KEY_FILE must hold the App's PEM private key/,
  );
  assert.ok(!problems[0]?.includes(pem.split("\n")[1] ?? "-"));
});

test("a bad App id is refused", () => {
  assertRefused(
    { GHA_CACHE_GITHUB_APP_ID: "my-app", GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: keyFile },
    /^GHA_CACHE_GITHUB_APP_ID must be/,
  );
});

test("a complete App from a key file, or an inline key with escaped line breaks, is accepted", () => {
  const fromFile = loadConfig({
    GHA_CACHE_GITHUB_APP_ID: "123",
    GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: keyFile,
  });
  assert.deepEqual(fromFile.github, {
    appId: "123",
    privateKey: pem,
    apiUrl: "https://api.github.com",
  });

  const inline = loadConfig({
    GHA_CACHE_GITHUB_APP_ID: "Iv1.abc123",
    GHA_CACHE_GITHUB_PRIVATE_KEY: pem.replace(/\n/g, "\\n"),
    GHA_CACHE_GITHUB_API_URL: "https://ghe.example.com/api/v3/",
  });
  assert.equal(inline.github?.privateKey.trim(), pem.trim());
  assert.equal(inline.github?.apiUrl, "https://ghe.example.com/api/v3");
});

test("both key variables at once are refused", () => {
  assertRefused(
    {
      GHA_CACHE_GITHUB_APP_ID: "123",
      GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: keyFile,
      GHA_CACHE_GITHUB_PRIVATE_KEY: pem,
    },
    /^set only one of GHA_CACHE_GITHUB_PRIVATE_KEY and GHA_CACHE_GITHUB_PRIVATE_KEY_FILE/,
  );
});

test("every problem is listed at once", () => {
  const problems = problemsOf({
    GHA_CACHE_PORT: "x",
    GHA_CACHE_LOG_LEVEL: "loud",
    GHA_CACHE_TOKEN_SECRET: "short",
  });
  assert.deepEqual(
    problems.map((problem) => problem.split(" ")[0]),
    ["GHA_CACHE_PORT", "GHA_CACHE_TOKEN_SECRET", "GHA_CACHE_LOG_LEVEL"],
  );
});
