/**
 * GET /healthz: the process is up and its metadata store answers. For load balancers and
 * orchestrators; it carries no detail that needs protecting.
 */
import { sql } from "kysely";
import type { FastifyInstance } from "fastify";
import type { Db } from "../db/database.js";

export async function healthRoutes(app: FastifyInstance, deps: { db: Db }): Promise<void> {
  app.get("/healthz", async (_request, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      return reply.send({ status: "ok" });
    } catch {
      return reply
        .code(503)
        .send({ status: "unavailable", message: "metadata store does not answer" });
    }
  });
}
