/**
 * A repository's default branch, which every job may read. Webhooks keep it current; when none
 * has been seen for the repository (the job came from the API), it is asked of GitHub once and
 * stored, with one request per repository however many calls wait for it.
 */
import type { GitHubClient } from "../github/client.js";
import type { Logger } from "../log.js";
import { withBudget } from "./budget.js";
import type { JobStore } from "./job-store.js";
import { NegativeCache } from "./negative-cache.js";
import { SingleFlight } from "./single-flight.js";

export class DefaultBranches {
  private readonly flights = new SingleFlight<string, string | null>();
  private readonly failures: NegativeCache<true>;

  constructor(
    private readonly jobs: JobStore,
    private readonly github: GitHubClient | undefined,
    private readonly log: Logger,
    negativeCacheMs: number,
  ) {
    this.failures = new NegativeCache(negativeCacheMs);
  }

  /**
   * The default branch, from the store or else from GitHub within `budgetMs`. Null when it cannot
   * be learned: the job then reads only its own ref, which widens nothing.
   */
  async get(repository: string, installationId: number, budgetMs: number): Promise<string | null> {
    const known = await this.jobs.defaultBranch(repository);
    if (known !== null || this.github === undefined || budgetMs <= 0) return known;
    if (this.failures.get(repository)) return null;
    return this.flights.run(repository, () => this.fetch(repository, installationId, budgetMs));
  }

  private async fetch(
    repository: string,
    installationId: number,
    budgetMs: number,
  ): Promise<string | null> {
    const github = this.github as GitHubClient;
    try {
      const facts = await withBudget(budgetMs, (signal) =>
        github.repository(installationId, repository, signal),
      );
      await this.jobs.recordRepository(repository, installationId, facts.defaultBranch);
      return facts.defaultBranch;
    } catch (error) {
      this.failures.set(repository, true);
      this.log.warn(
        { event: "default_branch_unknown", repository, reason: (error as Error).message },
        "default branch could not be learned from GitHub",
      );
      return null;
    }
  }
}
