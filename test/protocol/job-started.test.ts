/**
 * POST /runner/job-started: the runner's job-start report, stored as a hint and answered 202;
 * every malformed report is a 400 that says what is wrong and stores nothing.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { reportJobStart } from "../scope/fixture.js";

const REPOSITORY = "octo/app";
let server: TestServer;
let token: string;
let runnerId: string;

before(async () => {
  server = await startTestServer();
  const registered = await server.registerRunner("runner-1", REPOSITORY);
  token = registered.token;
  runnerId = registered.runner.id;
});
after(async () => {
  await server.close();
});

async function storedHint() {
  return (await server.server.services.runners.get(runnerId))?.hint ?? null;
}

test("a valid report is stored as the runner's hint and answered 202", async () => {
  const answer = await reportJobStart(server, token, {
    repository: REPOSITORY,
    run_id: 123,
    run_attempt: 2,
  });

  assert.equal(answer.status, 202);
  const hint = await storedHint();
  assert.deepEqual(
    { ...hint, at: undefined },
    { repository: REPOSITORY, runId: 123, runAttempt: 2, at: undefined },
  );
});

test("run ids given as strings, as the hook's environment has them, are accepted", async () => {
  const answer = await reportJobStart(server, token, {
    repository: REPOSITORY,
    run_id: "456",
    run_attempt: "1",
  });

  assert.equal(answer.status, 202);
  assert.equal((await storedHint())?.runId, 456);
});

test("a report without the runner token is a 401", async () => {
  const answer = await reportJobStart(server, undefined, { repository: REPOSITORY, run_id: 1 });

  assert.equal(answer.status, 401);
});

for (const [what, body, message] of [
  ["a body that is not an object", [1, 2], /JSON object/],
  ["a missing repository", { run_id: 1 }, /repository must be owner\/name/],
  [
    "a repository that is not owner/name",
    { repository: "no-slash", run_id: 1 },
    /repository must be owner\/name/,
  ],
  ["a missing run id", { repository: REPOSITORY }, /run_id must be a positive whole number/],
  [
    "a negative run id",
    { repository: REPOSITORY, run_id: -5 },
    /run_id must be a positive whole number/,
  ],
  [
    "a run id that is not a number",
    { repository: REPOSITORY, run_id: "12abc" },
    /run_id must be a positive whole number/,
  ],
  [
    "a run attempt of zero",
    { repository: REPOSITORY, run_id: 1, run_attempt: 0 },
    /run_attempt must be a positive whole number/,
  ],
  [
    "another repository than the runner's",
    { repository: "evil/fork", run_id: 1 },
    /not this runner's repository/,
  ],
] as const) {
  test(`${what} is a 400 and stores nothing`, async () => {
    const before = await storedHint();

    const answer = await reportJobStart(server, token, body);

    assert.equal(answer.status, 400);
    assert.match(answer.message, message);
    assert.deepEqual(await storedHint(), before);
  });
}

test("a body that is not JSON is a 400", async () => {
  const answer = await reportJobStart(server, token, "{not json");

  assert.equal(answer.status, 400);
});
