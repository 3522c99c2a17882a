/**
 * How the CLI answers being called wrong: one clear line on stderr naming the problem, the
 * command's synopsis, and exit code 2 (1 is kept for "well formed, but could not be done").
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

async function assertUsageError(args: string[], message: RegExp): Promise<string> {
  const result = await runCli(args, env);
  assert.equal(result.code, 2, `gha-cache ${args.join(" ")}: ${result.stderr}`);
  assert.match(result.stderr, message);
  assert.equal(result.stdout, "");
  return result.stderr;
}

test("no command prints the command list on stderr and exits 2", async () => {
  const stderr = await assertUsageError([], /no command given/);
  assert.match(stderr, /runner add\s+register a runner/);
});

test("an unknown command is named and exits 2", async () => {
  await assertUsageError(["frobnicate"], /unknown command "frobnicate"/);
  await assertUsageError(["runner", "frob"], /unknown command "runner frob"/);
});

test("an unknown flag is named and exits 2", async () => {
  const stderr = await assertUsageError(["runner", "add", "--bogus"], /Unknown option '--bogus'/);
  assert.match(stderr, /usage: gha-cache runner add/);
});

test("a missing required flag is named and exits 2", async () => {
  await assertUsageError(["runner", "add", "--installation", "1"], /--name is required/);
  await assertUsageError(["runner", "add", "--name", "r1"], /--installation is required/);
});

test("a flag given without its value exits 2", async () => {
  await assertUsageError(["runner", "add", "--installation", "1", "--name"], /argument missing/);
});

test("numbers that are not positive whole numbers are refused with exit 2", async () => {
  await assertUsageError(
    ["runner", "add", "--name", "r1", "--installation", "abc"],
    /--installation must be a positive whole number, got "abc"/,
  );
  await assertUsageError(
    ["runner", "add", "--name", "r1", "--installation", "0"],
    /--installation must be a positive/,
  );
  await assertUsageError(
    ["runner", "add", "--name", "r1", "--installation", "1", "--expires-in", "1.5"],
    /--expires-in must be a positive whole number/,
  );
  await assertUsageError(
    ["runner", "token", "r1", "--expires-in", "-5"],
    /--expires-in|Unknown option '-5'/,
  );
});

test("a runner name or repository GitHub would not accept exits 2", async () => {
  await assertUsageError(
    ["runner", "add", "--name", "has space", "--installation", "1"],
    /runner name must be/,
  );
  await assertUsageError(
    ["runner", "add", "--name", "r1", "--installation", "1", "--repository", "no-slash"],
    /repository must look like owner\/name/,
  );
});

test("a stray or missing argument exits 2", async () => {
  await assertUsageError(["runner", "list", "extra"], /unexpected argument "extra"/);
  await assertUsageError(["runner", "remove"], /give the runner's id or name/);
  await assertUsageError(["runner", "remove", "a", "b"], /unexpected argument "b"/);
  await assertUsageError(["serve", "--port", "1"], /Unknown option '--port'/);
});

test("help prints the command list, and help for a command its options, on stdout with exit 0", async () => {
  const overview = await runCli(["help"], env);
  assert.equal(overview.code, 0);
  for (const name of ["serve", "runner add", "runner list", "runner remove", "runner token"]) {
    assert.match(overview.stdout, new RegExp(`^  ${name}\\s`, "m"));
  }
  const add = await runCli(["runner", "add", "--help"], env);
  assert.equal(add.code, 0);
  assert.match(add.stdout, /--installation <id>/);
  assert.deepEqual(await runCli(["help", "runner", "add"], env), add);
});

test("help for a group of commands prints the usage of each", async () => {
  const group = await runCli(["help", "runner"], env);
  assert.equal(group.code, 0);
  for (const name of [
    "runner add",
    "runner list",
    "runner remove",
    "runner token",
    "runner setup",
  ]) {
    assert.match(group.stdout, new RegExp(`gha-cache ${name}`));
  }
});

test("help for an unknown command exits 2", async () => {
  await assertUsageError(["help", "nothing"], /no command "nothing"/);
});

test("help works even when the configuration is broken", async () => {
  const result = await runCli(["help"], { ...env, GHA_CACHE_PORT: "nope" });
  assert.equal(result.code, 0);
});
