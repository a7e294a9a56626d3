import { describe, expect, it } from 'vitest';
import { testConfig } from './config.js';
import { describeListenFailure, startServer } from './main.js';

describe('describeListenFailure', () => {
  it('names HOST and PORT when the server cannot listen (a bad HOST printed only "getaddrinfo ENOTFOUND …")', async () => {
    const config = testConfig({ host: 'no-such-host.invalid', port: 0 });
    const failure = await startServer(config).then(
      async (server) => {
        await server.close();
        throw new Error('listened on a host that does not exist');
      },
      (error: unknown) => error,
    );
    expect(describeListenFailure(failure, config)).toMatch(/^cannot listen on no-such-host\.invalid:0 \(HOST and PORT set it\): getaddrinfo ENOTFOUND/);
  });

  it('keeps any other failure as it is', () => {
    expect(describeListenFailure(new Error('unable to open database file'), testConfig())).toBe('unable to open database file');
  });
});
