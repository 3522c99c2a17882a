/**
 * The fallback's time budget (GHA_CACHE_RESOLVE_BUDGET_MS): a cache call waits for GitHub at most
 * this long, then fails closed. The work is told through an AbortSignal so its requests stop too,
 * but the answer does not wait for them to stop. The signal carries the deadline, so the GitHub
 * client can tell whether waiting out a rate limit still fits.
 */
import { setDeadline } from "../github/deadline.js";

export class BudgetExceeded extends Error {
  constructor(readonly budgetMs: number) {
    super(`budget exceeded (${budgetMs} ms)`);
    this.name = "BudgetExceeded";
  }
}

/** Runs `work`, settling no later than `budgetMs` from now; rejects with BudgetExceeded then. */
export async function withBudget<T>(
  budgetMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  setDeadline(controller.signal, Date.now() + budgetMs);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => {
        const exceeded = new BudgetExceeded(budgetMs);
        controller.abort(exceeded);
        reject(exceeded);
      },
      Math.max(0, budgetMs),
    );
  });
  const running = work(controller.signal);
  // Whichever loses the race must not surface as an unhandled rejection.
  running.catch(() => undefined);
  expired.catch(() => undefined);
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
