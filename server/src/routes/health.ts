import { Router } from 'express';
import { sql } from 'kysely';
import { ROUTES } from '@latchkey/shared';
import type { Services } from '../services/index.js';

/** GET /healthz: 200 `{ok:true}` when the database answers, 503 `{ok:false}` when it does not. */
export function healthRoutes(services: Services): Router {
  const router = Router();
  router.get(ROUTES.healthz, async (_req, res) => {
    try {
      await sql`select 1`.execute(services.db);
      res.status(200).set('Cache-Control', 'no-store').json({ ok: true });
    } catch {
      res.status(503).set('Cache-Control', 'no-store').json({ ok: false });
    }
  });
  return router;
}
