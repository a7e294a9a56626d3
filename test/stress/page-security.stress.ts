import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployment, type Deployment } from '../src/reliability/harness/deployment.js';
import { PER_IP_LIFTED } from '../src/reliability/harness/limits.js';
import { csrfRefusals, enumeration, headersOnEveryPage, openRedirects, sessionFixation } from '../src/reliability/page-security.js';

// The fast suite runs on SQLite; here the same checks on PostgreSQL behind 2 instances.
describe('session and page security, pg×2', () => {
  let deployment: Deployment;
  beforeAll(async () => {
    deployment = await startDeployment({ dialect: 'postgres', instances: 2, rateLimits: PER_IP_LIFTED });
  });
  afterAll(() => deployment?.close());

  it('fixation, CSRF, headers, redirects, enumeration', async () => {
    const fixation = await sessionFixation(deployment);
    expect(fixation).toEqual({ loginFailed: false, rotatedOnPasswordLogin: true, rotatedOnSecondFactor: true, oldIdLoggedIn: false });
    const csrf = await csrfRefusals(deployment);
    expect(csrf.filter((c) => !c.refused)).toEqual([]);
    const headers = await headersOnEveryPage(deployment);
    expect(headers.filter((c) => c.problems.length > 0)).toEqual([]);
    const redirects = await openRedirects(deployment);
    expect(redirects.filter((c) => !c.safe)).toEqual([]);
    const enumerated = await enumeration(deployment);
    expect(enumerated.loginSameMessage && !enumerated.registerExistingEmailRevealed).toBe(true);
    console.log(
      `page security pg×2: fixation OK, CSRF ${csrf.length}/${csrf.length} refused, headers ${headers.length}/${headers.length} pages, ` +
        `open redirect ${redirects.length}/${redirects.length} kept local, enumeration none`,
    );
  });
});
