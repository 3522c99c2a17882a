/**
 * `gha-cache runner setup`: the environment lines of each runner setup, from the built CLI, with
 * a token the service accepts in the cache URL's path.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { loadConfig } from "../../src/config.js";
import { setupLines } from "../../src/cli/runner-setup.js";
import { runCli, tempDataDir } from "./cli-process.js";

const PUBLIC_URL = "https://cache.example.com";
const RUNNER = {
  id: "id-1",
  name: "ci-1",
  repository: "octo/app",
  installationId: 1,
  createdAt: 0,
  hint: null,
};

let data: Awaited<ReturnType<typeof tempDataDir>>;
let env: Record<string, string>;

before(async () => {
  data = await tempDataDir();
  env = { GHA_CACHE_DATA_DIR: data.dir, GHA_CACHE_PUBLIC_URL: PUBLIC_URL };
  const added = await runCli(["runner", "add", "--name", "ci-setup", "--installation", "7"], env);
  assert.equal(added.code, 0, added.stderr);
});

after(async () => {
  await data.remove();
});

/** The `NAME=value` lines of the output, by name. */
function variables(lines: string[]): Map<string, string> {
  const pairs = lines
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => line.split(/=(.*)/s, 2) as [string, string]);
  return new Map(pairs);
}

test("setup 1 puts the token in the v1 URL with the hook; setup 2 points results here with no token", () => {
  const config = loadConfig({ GHA_CACHE_PUBLIC_URL: PUBLIC_URL });
  const lines = setupLines(config, RUNNER, "tok.en.sig", "/hooks/start.sh");
  const vars = variables(lines);

  assert.equal(vars.get("CUSTOM_ACTIONS_CACHE_URL"), `${PUBLIC_URL}/r/tok.en.sig/`);
  assert.equal(vars.get("ACTIONS_RUNNER_HOOK_JOB_STARTED"), "/hooks/start.sh");
  assert.equal(vars.get("CUSTOM_ACTIONS_RESULTS_URL"), `${PUBLIC_URL}/`);
  assert.equal(lines.filter((line) => line.includes("tok.en.sig")).length, 1);
  assert.ok(lines.some((line) => /GitHub-token verification NOT configured/.test(line)));
  assert.ok(lines.some((line) => /GHA_CACHE_RESULTS_UPSTREAM_URL/.test(line)));
});

test("the command prints both setups for a registered runner, with a fresh token", async () => {
  const result = await runCli(["runner", "setup", "ci-setup", "--hook-path", "/srv/hook.sh"], env);

  assert.equal(result.code, 0, result.stderr);
  const vars = variables(result.stdout.split("\n"));
  assert.match(
    vars.get("CUSTOM_ACTIONS_CACHE_URL") ?? "",
    /^https:\/\/cache\.example\.com\/r\/[\w-]+\.[\w-]+\.[\w-]+\/$/,
  );
  assert.equal(vars.get("ACTIONS_RUNNER_HOOK_JOB_STARTED"), "/srv/hook.sh");
  assert.equal(vars.get("CUSTOM_ACTIONS_RESULTS_URL"), `${PUBLIC_URL}/`);
});

test("an unknown runner is a failure that names it", async () => {
  const result = await runCli(["runner", "setup", "nobody"], env);

  assert.equal(result.code, 1);
  assert.match(result.stderr, /no runner has the id or name "nobody"/);
});
