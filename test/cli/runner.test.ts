/**
 * Runner management through the built CLI, against the data folder a real `serve` process uses:
 * the token `runner add` prints is accepted by the server, and refused once the runner is removed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, startServe, tempDataDir, type ServeProcess } from "./cli-process.js";

const REPOSITORY = "octo/app";
const INSTALLATION = "4242";
const RUN_ID = 9001;
const HOUR_IN_SECONDS = 3600;

let data: Awaited<ReturnType<typeof tempDataDir>>;
let server: ServeProcess;
let env: Record<string, string>;

before(async () => {
  data = await tempDataDir();
  // The CLI creates the folder and its secrets; the server then starts on what it left.
  env = { GHA_CACHE_DATA_DIR: data.dir, GHA_CACHE_PUBLIC_URL: "https://cache.example.com" };
  await cli(["runner", "add", "--name", "warm-up", "--installation", INSTALLATION]);
  server = await startServe({ GHA_CACHE_DATA_DIR: data.dir });
});

after(async () => {
  await server.stop();
  await data.remove();
});

async function cli(args: string[]) {
  const result = await runCli(args, env);
  assert.equal(result.code, 0, `gha-cache ${args.join(" ")} failed: ${result.stderr}`);
  return result;
}

interface Added {
  runner: { id: string; name: string; repository: string | null; installationId: number };
  token: string;
  expiresAt: string | null;
  env: Record<string, string>;
}

async function addRunner(name: string, ...extra: string[]): Promise<Added> {
  const result = await cli([
    "runner",
    "add",
    "--name",
    name,
    "--installation",
    INSTALLATION,
    "--json",
    ...extra,
  ]);
  return JSON.parse(result.stdout) as Added;
}

/** A call that needs a valid runner token: the job-start report of the runner's hook. */
async function reportJobStart(token: string, baseUrl = server.url): Promise<number> {
  const response = await fetch(`${baseUrl}/runner/job-started`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ repository: REPOSITORY, run_id: RUN_ID }),
  });
  await response.arrayBuffer();
  return response.status;
}

function jwtClaims(token: string): Record<string, unknown> {
  const [, payload] = token.split(".");
  return JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}

test("runner add prints the four variables a runner needs, pointing at the public URL", async () => {
  const added = await addRunner("env-runner", "--repository", REPOSITORY);

  assert.deepEqual(added.env, {
    ACTIONS_CACHE_URL: "https://cache.example.com/",
    ACTIONS_RESULTS_URL: "https://cache.example.com/",
    ACTIONS_CACHE_SERVICE_V2: "true",
    ACTIONS_RUNTIME_TOKEN: added.token,
  });
  assert.equal(added.runner.repository, REPOSITORY);
  assert.equal(added.runner.installationId, Number(INSTALLATION));
  assert.equal(added.expiresAt, null);
});

test("runner add without --json prints env-file lines and a comment on stock runners", async () => {
  const result = await cli([
    "runner",
    "add",
    "--name",
    "text-runner",
    "--installation",
    INSTALLATION,
  ]);
  const lines = result.stdout.trim().split("\n");
  const settings = lines.filter((line) => !line.startsWith("#"));

  assert.deepEqual(
    settings.map((line) => line.split("=")[0]),
    [
      "ACTIONS_CACHE_URL",
      "ACTIONS_RESULTS_URL",
      "ACTIONS_CACHE_SERVICE_V2",
      "ACTIONS_RUNTIME_TOKEN",
    ],
  );
  assert.ok(
    settings.every((line) => /^[A-Z_0-9]+=\S+$/.test(line)),
    result.stdout,
  );
  assert.match(result.stdout, /# A stock runner overwrites these for JavaScript actions/);
});

test("runner add warns on stderr when no public URL is configured", async () => {
  const result = await runCli(
    ["runner", "add", "--name", "local-runner", "--installation", INSTALLATION],
    {
      GHA_CACHE_DATA_DIR: data.dir,
    },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /GHA_CACHE_PUBLIC_URL is not set/);
  assert.match(result.stdout, /^ACTIONS_CACHE_URL=http:\/\/127\.0\.0\.1:3000\/$/m);
});

test("the token runner add prints is accepted by the running server", async () => {
  const added = await addRunner("accepted-runner", "--repository", REPOSITORY);
  assert.equal(await reportJobStart(added.token), 202);
});

test("a removed runner's token is refused while the server keeps running", async () => {
  const added = await addRunner("doomed-runner", "--repository", REPOSITORY);
  assert.equal(await reportJobStart(added.token), 202);

  const removed = await cli(["runner", "remove", "doomed-runner"]);
  assert.match(
    removed.stdout,
    new RegExp(`removed runner doomed-runner \\(id ${added.runner.id}\\)`),
  );
  assert.equal(await reportJobStart(added.token), 401);
});

test("runner list shows every runner and never a token", async () => {
  const added = await addRunner("listed-runner", "--repository", REPOSITORY);

  const text = await cli(["runner", "list"]);
  assert.match(text.stdout, /^ID\s+NAME\s+REPOSITORY\s+INSTALLATION\s+CREATED$/m);
  assert.match(
    text.stdout,
    new RegExp(`^${added.runner.id}\\s+listed-runner\\s+${REPOSITORY}\\s+${INSTALLATION}\\s`, "m"),
  );
  assert.ok(!text.stdout.includes(added.token));

  const json = JSON.parse((await cli(["runner", "list", "--json"])).stdout) as Record<
    string,
    unknown
  >[];
  const listed = json.find((runner) => runner.id === added.runner.id);
  assert.deepEqual(Object.keys(listed ?? {}).sort(), [
    "createdAt",
    "id",
    "installationId",
    "name",
    "repository",
  ]);
});

test("runner token mints a working token for a runner found by name, with the expiry asked for", async () => {
  const added = await addRunner("reissued-runner", "--repository", REPOSITORY);
  const result = await cli([
    "runner",
    "token",
    "reissued-runner",
    "--expires-in",
    String(HOUR_IN_SECONDS),
    "--json",
  ]);
  const issued = JSON.parse(result.stdout) as Added;

  assert.equal(issued.runner.id, added.runner.id);
  assert.notEqual(issued.token, added.token);
  const claims = jwtClaims(issued.token);
  assert.equal(Number(claims.exp) - Number(claims.iat), HOUR_IN_SECONDS);
  assert.ok(issued.expiresAt !== null && Date.parse(issued.expiresAt) > Date.now());
  assert.equal(await reportJobStart(issued.token), 202);
  // Tokens are not stored, so the first one stays valid too.
  assert.equal(await reportJobStart(added.token), 202);
});

test("runner add --expires-in gives the token an expiry; without it the token has none", async () => {
  const expiring = await addRunner("expiring-runner", "--expires-in", "60");
  assert.equal(Number(jwtClaims(expiring.token).exp) - Number(jwtClaims(expiring.token).iat), 60);
  const lasting = await addRunner("lasting-runner");
  assert.equal(jwtClaims(lasting.token).exp, undefined);
});

test("removing or reissuing an unknown runner fails with exit code 1", async () => {
  for (const command of ["remove", "token"]) {
    const result = await runCli(["runner", command, "no-such-runner"], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no runner has the id or name "no-such-runner"/);
  }
});

test("a name shared by runners of two installations is refused; the id works", async () => {
  const first = await addRunner("twin-runner");
  await cli(["runner", "add", "--name", "twin-runner", "--installation", "77"]);

  const ambiguous = await runCli(["runner", "remove", "twin-runner"], env);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /2 runners are named "twin-runner"; give one of their ids/);
  assert.equal((await runCli(["runner", "remove", first.runner.id], env)).code, 0);
});

test("registering the same runner twice fails with exit code 1 and keeps the first", async () => {
  const first = await addRunner("unique-runner", "--repository", REPOSITORY);
  const again = await runCli(
    [
      "runner",
      "add",
      "--name",
      "unique-runner",
      "--installation",
      INSTALLATION,
      "--repository",
      REPOSITORY,
    ],
    env,
  );
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already registered/);
  assert.equal(await reportJobStart(first.token), 202);
});

test("runner add refuses to mint with a token secret other than the server's", async () => {
  const own = await tempDataDir();
  const secret = {
    GHA_CACHE_DATA_DIR: own.dir,
    GHA_CACHE_TOKEN_SECRET: "configured-token-secret-0123456789abcdef",
  };
  const configured = await startServe(secret);
  try {
    const args = [
      "runner",
      "add",
      "--name",
      "keyed-runner",
      "--installation",
      INSTALLATION,
      "--json",
    ];
    const without = await runCli(args, { GHA_CACHE_DATA_DIR: own.dir });
    assert.equal(without.code, 1);
    assert.match(
      without.stderr,
      /uses another token secret: run this command with the server's environment/,
    );
    assert.equal(without.stdout, "");

    const withSecret = await runCli(args, secret);
    assert.equal(withSecret.code, 0, withSecret.stderr);
    const { token } = JSON.parse(withSecret.stdout) as Added;
    assert.equal(await reportJobStart(token, configured.url), 202);
  } finally {
    await configured.stop();
    await own.remove();
  }
});
