/**
 * Commands name a runner by id or by name. A name is unique only within an installation and
 * repository, so a name that matches several records is refused rather than guessed.
 */
import type { Config } from "../config.js";
import type { Runner, RunnerRegistry } from "../identity/runners.js";
import type { Services } from "../services.js";
import { CommandFailure } from "./command.js";
import { withServices } from "./open-services.js";
import { assertServerKeys } from "./runner-env.js";

export async function findRunner(runners: RunnerRegistry, idOrName: string): Promise<Runner> {
  const byId = await runners.get(idOrName);
  if (byId) return byId;
  const byName = (await runners.list()).filter((runner) => runner.name === idOrName);
  const [only] = byName;
  if (only === undefined) throw new CommandFailure(`no runner has the id or name "${idOrName}"`);
  if (byName.length > 1) {
    const ids = byName
      .map((runner) => `${runner.id} (installation ${runner.installationId})`)
      .join(", ");
    throw new CommandFailure(
      `${byName.length} runners are named "${idOrName}"; give one of their ids: ${ids}`,
    );
  }
  return only;
}

/**
 * Runs `action` on the runner `idOrName` names, with the services of the data folder, once it is
 * sure tokens minted here would verify on the server (same token secret).
 */
export function withNamedRunner<T>(
  idOrName: string,
  action: (runner: Runner, services: Services, config: Config) => Promise<T>,
): Promise<T> {
  return withServices(async (services, config) => {
    assertServerKeys(services);
    return action(await findRunner(services.runners, idOrName), services, config);
  });
}
