/**
 * The settings of GitHub-token verification and of the results pass-through: off when unset,
 * all or nothing when set, and a message naming the variable for every value refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.js";

const TOKEN_SETTINGS = {
  GHA_CACHE_GITHUB_TOKEN_JWKS_URL: "http://127.0.0.1:8080/jwks",
  GHA_CACHE_GITHUB_TOKEN_ISSUER: "https://issuer.test",
  GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM: "repository",
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail(`configuration was accepted: ${JSON.stringify(env)}`);
}

test("both features are off when their variables are unset", () => {
  const config = loadConfig({});

  assert.equal(config.githubToken, undefined);
  assert.equal(config.resultsUpstreamUrl, undefined);
});

test("GitHub-token verification takes its JWKS URL, issuer and claim names", () => {
  const config = loadConfig({ ...TOKEN_SETTINGS, GHA_CACHE_GITHUB_TOKEN_RUN_ID_CLAIM: "run_id" });

  assert.deepEqual(config.githubToken, {
    jwksUrl: "http://127.0.0.1:8080/jwks",
    issuer: "https://issuer.test",
    audience: undefined,
    repositoryClaim: "repository",
    runIdClaim: "run_id",
  });
});

for (const missing of Object.keys(TOKEN_SETTINGS)) {
  test(`GitHub-token verification without ${missing} is refused, naming it`, () => {
    const env: Record<string, string> = { ...TOKEN_SETTINGS };
    delete env[missing];

    assert.ok(problemsOf(env).some((problem) => problem.startsWith(`${missing} is required`)));
  });
}

test("a JWKS URL that is not http(s) and a claim name with spaces are refused", () => {
  const problems = problemsOf({
    ...TOKEN_SETTINGS,
    GHA_CACHE_GITHUB_TOKEN_JWKS_URL: "file:///etc/keys.json",
    GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM: "repo name",
  });

  assert.ok(
    problems.some((problem) =>
      /GHA_CACHE_GITHUB_TOKEN_JWKS_URL must use http or https/.test(problem),
    ),
  );
  assert.ok(
    problems.some((problem) =>
      /GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM must be a claim name/.test(problem),
    ),
  );
});

test("the results upstream is an origin; a path is refused", () => {
  assert.equal(
    loadConfig({ GHA_CACHE_RESULTS_UPSTREAM_URL: "https://results.example.test/" })
      .resultsUpstreamUrl,
    "https://results.example.test",
  );
  assert.match(
    problemsOf({ GHA_CACHE_RESULTS_UPSTREAM_URL: "https://results.example.test/twirp" })[0]!,
    /GHA_CACHE_RESULTS_UPSTREAM_URL must be an origin without a path/,
  );
});
