/**
 * The resolver's API fallback, driven through the v1 cache API with the webhook withheld: the
 * run a hint names is listed on a fake GitHub, and only its answer grants anything.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runOfJobs } from "../helpers/fake-github.js";
import { eventually, REPOSITORY, reportJobStart, reserve, startWithGitHub } from "./fixture.js";

const RUN = 9001;

test("a late webhook: the fallback finds the runner's job on the third page of a 250-job run and stores it", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { runner, token } = await server.registerRunner("runner-7", REPOSITORY);
    github.addRun(
      REPOSITORY,
      RUN,
      runOfJobs(RUN, 250, { index: 230, runnerName: "runner-7", headBranch: "feature" }),
    );

    const first = await reserve(server, token, { runIdHeader: RUN });
    assert.equal(first.status, 201, first.message);

    const walk = github.calls.filter((call) => call.route === "jobs");
    assert.deepEqual(
      walk.map((call) => call.query.page ?? "1"),
      ["1", "2", "3"],
    );
    assert.ok(
      walk.every((call) => call.query.per_page === "100" && call.query.filter === "latest"),
    );
    const stored = await server.server.services.jobs.currentJob(runner);
    assert.equal(stored?.source, "api");
    assert.equal(stored?.status, "in_progress");
    assert.equal(Number(stored?.run_id), RUN);

    const second = await reserve(server, token, { runIdHeader: RUN });
    assert.equal(second.status, 201, second.message);
    assert.equal(github.count("jobs"), 3, "the stored job answers the second call");
  } finally {
    await close();
  }
});

test("the job found through the API reads its branch, then the default branch fetched once from GitHub", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { runner } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRepository(REPOSITORY, "trunk");
    github.addRun(
      REPOSITORY,
      RUN,
      runOfJobs(RUN, 3, { index: 1, runnerName: "runner-1", headBranch: "feature" }),
    );
    const resolver = server.server.services.resolver;

    const decision = await resolver.resolve({ runner, access: "write", runIdHint: RUN });
    await resolver.resolve({ runner, access: "read", runIdHint: RUN });

    assert.equal(decision.writeScope, "refs/heads/feature");
    assert.deepEqual(decision.readScopes, ["refs/heads/feature", "refs/heads/trunk"]);
    assert.equal(decision.job?.source, "api");
    assert.equal(github.count("repository"), 1);
    assert.equal(await server.server.services.jobs.defaultBranch(REPOSITORY), "trunk");
  } finally {
    await close();
  }
});

test("the hint can come from the job-start report", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 5, { index: 4, runnerName: "runner-1" }));

    const report = await reportJobStart(server, token, {
      repository: REPOSITORY,
      run_id: String(RUN),
      run_attempt: "1",
    });
    assert.equal(report.status, 202);
    const call = await reserve(server, token);

    assert.equal(call.status, 201, call.message);
    assert.equal(
      github.count("jobs"),
      1,
      "the report's background resolution and the call share one walk",
    );
  } finally {
    await close();
  }
});

test("the hint can come from the run_id query of the cache call", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 5, { index: 0, runnerName: "runner-1" }));

    const call = await reserve(server, token, { runIdQuery: RUN });

    assert.equal(call.status, 201, call.message);
    assert.equal(
      github.calls.find((c) => c.route === "jobs")?.path,
      `/repos/${REPOSITORY}/actions/runs/${RUN}/jobs`,
    );
  } finally {
    await close();
  }
});

test("50 concurrent calls from one runner with the webhook withheld make one jobs-list walk", async () => {
  const CONCURRENT_CALLS = 50;
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 150, { index: 120, runnerName: "runner-1" }));
    // A slow first page keeps the walk in flight while every call arrives.
    github.fail("jobs", { delayMs: 300, times: 1 });

    const calls = await Promise.all(
      Array.from({ length: CONCURRENT_CALLS }, () => reserve(server, token, { runIdHeader: RUN })),
    );

    assert.deepEqual(new Set(calls.map((c) => c.status)), new Set([201]));
    assert.equal(github.count("jobs"), 2, "one walk of two pages");
    assert.equal(github.count("access_tokens"), 1);
  } finally {
    await close();
  }
});

test("a runner whose job completed is refused without asking GitHub", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    const job = {
      jobId: 71,
      runId: RUN,
      repository: REPOSITORY,
      headBranch: "feature",
      runnerName: "runner-1",
    };
    await server.jobEvent({ ...job, action: "in_progress" });
    assert.equal((await reserve(server, token)).status, 201);
    await server.jobEvent({ ...job, action: "completed" });

    const refused = await reserve(server, token, { runIdHeader: RUN });

    assert.equal(refused.status, 403);
    assert.match(refused.message, /job has completed/);
    assert.equal(github.calls.length, 0);
  } finally {
    await close();
  }
});

test("after a completed job, a newer run attempt reported by the runner is resolved fresh", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    const job = {
      jobId: 71,
      runId: RUN,
      repository: REPOSITORY,
      headBranch: "feature",
      runnerName: "runner-1",
    };
    await server.jobEvent({ ...job, action: "in_progress" });
    await server.jobEvent({ ...job, action: "completed" });
    github.addRun(REPOSITORY, RUN, [
      ...runOfJobs(RUN, 2, { index: 0, runnerName: "runner-1", status: "completed" }),
      ...runOfJobs(RUN, 2, {
        index: 1,
        runnerName: "runner-1",
        runAttempt: 2,
        headBranch: "feature",
      }),
    ]);

    assert.equal(
      (await reportJobStart(server, token, { repository: REPOSITORY, run_id: RUN, run_attempt: 2 }))
        .status,
      202,
    );
    const call = await reserve(server, token);

    assert.equal(call.status, 201, call.message);
    const decision = server.logs
      .filter((l) => l.event === "scope_decision" && l.allowed === true)
      .at(-1);
    assert.equal(decision?.jobSource, "api");
  } finally {
    await close();
  }
});

test("after a completed job, a new run named by the cache call is resolved fresh", async () => {
  const NEXT_RUN = RUN + 1;
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    const job = {
      jobId: 71,
      runId: RUN,
      repository: REPOSITORY,
      headBranch: "feature",
      runnerName: "runner-1",
    };
    await server.jobEvent({ ...job, action: "in_progress" });
    await server.jobEvent({ ...job, action: "completed" });
    github.addRun(
      REPOSITORY,
      NEXT_RUN,
      runOfJobs(NEXT_RUN, 3, { index: 2, runnerName: "runner-1", headBranch: "other" }),
    );

    const stale = await reserve(server, token, { runIdHeader: RUN });
    const fresh = await reserve(server, token, { runIdHeader: NEXT_RUN });

    assert.equal(stale.status, 403);
    assert.equal(fresh.status, 201, fresh.message);
    assert.equal(github.count("jobs"), 1);
  } finally {
    await close();
  }
});

test("a job-start report naming another repository than the runner's is ignored and logged", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { runner } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun("evil/fork", RUN, runOfJobs(RUN, 1, { index: 0, runnerName: "runner-1" }));
    await server.server.services.runners.recordHint(runner.id, {
      repository: "evil/fork",
      runId: RUN,
      runAttempt: 1,
    });
    const current = await server.server.services.runners.get(runner.id);

    const decision = await server.server.services.resolver.resolve({
      runner: current!,
      access: "write",
    });

    assert.equal(decision.writeScope, null);
    assert.equal(github.calls.length, 0);
    const ignored = server.logs.find((l) => l.event === "run_hint_ignored");
    assert.match(String(ignored?.reason), /evil\/fork/);
  } finally {
    await close();
  }
});

test("a background resolution after the job-start report stores the job before the first cache call", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { runner, token } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 1, { index: 0, runnerName: "runner-1" }));

    await reportJobStart(server, token, { repository: REPOSITORY, run_id: RUN });

    await eventually(
      async () => (await server.server.services.jobs.currentJob(runner))?.status === "in_progress",
    );
    assert.equal(github.count("jobs"), 1);
  } finally {
    await close();
  }
});

test("one installation token serves many resolutions of many runners", async () => {
  const RUNNERS = 5;
  const { server, github, close } = await startWithGitHub();
  try {
    for (let index = 0; index < RUNNERS; index += 1) {
      const name = `runner-${index}`;
      const { token } = await server.registerRunner(name, REPOSITORY);
      github.addRun(
        REPOSITORY,
        RUN + index,
        runOfJobs(RUN + index, 2, { index: 1, runnerName: name }),
      );
      assert.equal((await reserve(server, token, { runIdHeader: RUN + index })).status, 201);
    }

    assert.equal(github.count("jobs"), RUNNERS);
    assert.equal(github.count("access_tokens"), 1);
  } finally {
    await close();
  }
});

test("a recorded job older than the run the call names gives way to GitHub's answer for the new run", async () => {
  const NEXT_RUN = RUN + 1;
  const { server, github, close } = await startWithGitHub();
  try {
    const { runner, token } = await server.registerRunner("runner-1", REPOSITORY);
    // The old job's `completed` webhook was lost: the record still says in progress.
    await server.jobEvent({
      action: "in_progress",
      jobId: 71,
      runId: RUN,
      repository: REPOSITORY,
      headBranch: "old",
      runnerName: "runner-1",
    });
    github.addRun(
      REPOSITORY,
      NEXT_RUN,
      runOfJobs(NEXT_RUN, 2, { index: 0, runnerName: "runner-1", headBranch: "new" }),
    );

    const decision = await server.server.services.resolver.resolve({
      runner,
      access: "write",
      runIdHint: NEXT_RUN,
    });
    const unconfirmed = await reserve(server, token, { runIdHeader: NEXT_RUN + 1 });

    assert.equal(decision.writeScope, "refs/heads/new");
    assert.equal(
      unconfirmed.status,
      403,
      "a newer run GitHub does not confirm is refused, not the old job's scope",
    );
  } finally {
    await close();
  }
});

test("the v2 Twirp API gets the same answer: a hint in the header resolves, a refusal says why", async () => {
  const CREATE = "/twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry";
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 120, { index: 110, runnerName: "runner-1" }));
    github.addRun(REPOSITORY, RUN + 1, runOfJobs(RUN + 1, 3));
    const create = async (key: string, runId?: number) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      };
      if (runId !== undefined) headers["x-github-run-id"] = String(runId);
      const response = await fetch(`${server.url}${CREATE}`, {
        method: "POST",
        headers,
        body: JSON.stringify({ key, version: "v1" }),
      });
      return (await response.json()) as { ok?: boolean; message?: string };
    };

    const refused = await create("k-other", RUN + 1);
    const allowed = await create("k-run", RUN);

    assert.equal(refused.ok ?? false, false);
    assert.match(refused.message ?? "", /cache write denied: run 9002 has no job on this runner/);
    assert.equal(allowed.ok, true);
    assert.equal(github.count("jobs"), 3);
  } finally {
    await close();
  }
});

test("a job of the same runner name in an older attempt of the run grants nothing", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-7", REPOSITORY);
    // Attempt 1 had this runner's job (still shown in progress); attempt 2 runs elsewhere.
    const firstAttempt = runOfJobs(RUN, 5, { index: 0, runnerName: "runner-7", runAttempt: 1 });
    const secondAttempt = runOfJobs(RUN, 5, { index: 0, runnerName: "runner-9", runAttempt: 2 });
    github.addRun(REPOSITORY, RUN, [...firstAttempt, ...secondAttempt]);

    const refused = await reserve(server, token, { runIdHeader: RUN });

    assert.equal(refused.status, 403);
    assert.match(refused.message, /cache write denied: .*no job on this runner/);
    const walk = github.calls.filter((call) => call.route === "jobs");
    assert.ok(walk.length > 0 && walk.every((call) => call.query.filter === "latest"));
  } finally {
    await close();
  }
});
