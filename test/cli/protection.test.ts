/**
 * `gha-cache protection on|off|list`: the operator's switch, stored where the server reads it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, tempDataDir } from "./cli-process.js";

let data: Awaited<ReturnType<typeof tempDataDir>>;
let env: Record<string, string>;

before(async () => {
  data = await tempDataDir();
  env = { GHA_CACHE_DATA_DIR: data.dir };
});

after(async () => {
  await data.remove();
});

test("protection off for a repository, then on for its installation, are listed as set", async () => {
  const off = await runCli(
    ["protection", "off", "--installation", "7", "--repository", "octo/app"],
    env,
  );
  const on = await runCli(["protection", "on", "--installation", "7"], env);
  const listed = await runCli(["protection", "list", "--json"], env);

  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /branch protection off for octo\/app/);
  assert.equal(on.code, 0, on.stderr);
  assert.deepEqual(
    (
      JSON.parse(listed.stdout) as {
        installationId: number;
        repository: string | null;
        enabled: boolean;
      }[]
    ).map(({ installationId, repository, enabled }) => ({ installationId, repository, enabled })),
    [
      { installationId: 7, repository: null, enabled: true },
      { installationId: 7, repository: "octo/app", enabled: false },
    ],
  );
});

test("protection without an installation, or with a malformed repository, is a usage error", async () => {
  const missing = await runCli(["protection", "off"], env);
  const malformed = await runCli(
    ["protection", "off", "--installation", "7", "--repository", "not a repo"],
    env,
  );

  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--installation is required/);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /--repository must look like owner\/name/);
});
