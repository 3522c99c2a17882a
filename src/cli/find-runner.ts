/**
 * Commands name a runner by id or by name. A name is unique only within an installation and
 * repository, so a name that matches several records is refused rather than guessed.
 */
import type { Runner, RunnerRegistry } from "../identity/runners.js";
import { CommandFailure } from "./command.js";

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
