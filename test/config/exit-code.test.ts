/**
 * A bad configuration stops `gha-cache serve` (and every command that needs the configuration)
 * before it opens anything: exit code 2 and a message on stderr naming the variable.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../cli/cli-process.js";

let folder: string;
let dataDir: string;

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "gha-cache-config-exit-"));
  dataDir = path.join(folder, "data");
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

const BAD_VALUES: { what: string; env: () => Record<string, string>; names: RegExp }[] = [
  {
    what: "a port out of range",
    env: () => ({ GHA_CACHE_PORT: "70000" }),
    names: /GHA_CACHE_PORT must be a whole number/,
  },
  {
    what: "a port that is not a number",
    env: () => ({ GHA_CACHE_PORT: "http" }),
    names: /GHA_CACHE_PORT must be a whole number/,
  },
  {
    what: "a bad public URL",
    env: () => ({ GHA_CACHE_PUBLIC_URL: "not a url" }),
    names: /GHA_CACHE_PUBLIC_URL must be an absolute/,
  },
  {
    what: "a bad GitHub API URL",
    env: () => ({ GHA_CACHE_GITHUB_API_URL: "api.github.com" }),
    names: /GHA_CACHE_GITHUB_API_URL must be an absolute/,
  },
  {
    what: "a short token secret",
    env: () => ({ GHA_CACHE_TOKEN_SECRET: "abc" }),
    names: /GHA_CACHE_TOKEN_SECRET must be at least 32/,
  },
  {
    what: "a short webhook secret",
    env: () => ({ GHA_CACHE_WEBHOOK_SECRET: "abc" }),
    names: /GHA_CACHE_WEBHOOK_SECRET must be at least 32/,
  },
  {
    what: "a private key without App id",
    env: () => ({ GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: path.join(folder, "app.pem") }),
    names: /GHA_CACHE_GITHUB_APP_ID is required/,
  },
  {
    what: "an unreadable key file",
    env: () => ({
      GHA_CACHE_GITHUB_APP_ID: "1",
      GHA_CACHE_GITHUB_PRIVATE_KEY_FILE: path.join(folder, "absent.pem"),
    }),
    names: /GHA_CACHE_GITHUB_PRIVATE_KEY_FILE cannot be read/,
  },
  {
    what: "a bad log level",
    env: () => ({ GHA_CACHE_LOG_LEVEL: "chatty" }),
    names: /GHA_CACHE_LOG_LEVEL must be one of/,
  },
  {
    what: "an unknown variable",
    env: () => ({ GHA_CACHE_DATADIR: "/tmp" }),
    names: /GHA_CACHE_DATADIR is not a gha-cache setting/,
  },
];

for (const bad of BAD_VALUES) {
  test(`serve exits 2 on ${bad.what}, naming the variable`, async () => {
    await writeFile(
      path.join(folder, "app.pem"),
      "placeholder: only the missing App id matters here\n",
    );
    const result = await runCli(["serve"], {
      GHA_CACHE_DATA_DIR: dataDir,
      GHA_CACHE_PORT: "0",
      ...bad.env(),
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^gha-cache: invalid configuration:/);
    assert.match(result.stderr, bad.names);
    assert.equal(result.stdout, "", "nothing may start or log before the configuration is valid");
  });
}

test("runner commands refuse a bad configuration the same way", async () => {
  const result = await runCli(["runner", "list"], {
    GHA_CACHE_DATA_DIR: dataDir,
    GHA_CACHE_LOG_LEVEL: "chatty",
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /GHA_CACHE_LOG_LEVEL must be one of/);
});

test("several bad variables are all named in one run", async () => {
  const result = await runCli(["serve"], {
    GHA_CACHE_DATA_DIR: dataDir,
    GHA_CACHE_PORT: "x",
    GHA_CACHE_LOG_LEVEL: "y",
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /GHA_CACHE_PORT/);
  assert.match(result.stderr, /GHA_CACHE_LOG_LEVEL/);
});
