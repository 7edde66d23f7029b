import { join } from 'node:path';
import { ConfigurationError } from '../../src';
import { requireOptionalPeer } from '../../src/persistence/peers';

describe('requireOptionalPeer', () => {
  it('loads a package that is installed', () => {
    expect(requireOptionalPeer<typeof import('uuid')>('uuid', 'a test').v4).toEqual(expect.any(Function));
  });

  it('names the missing package, what needs it and how to install it', () => {
    const load = () => requireOptionalPeer('eventsourcing-nact-no-such-driver', 'PERSISTENCE=nothing');
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(
      "PERSISTENCE=nothing needs the package 'eventsourcing-nact-no-such-driver', which is not installed: npm install eventsourcing-nact-no-such-driver",
    );
  });

  it('rethrows the error of a package that is found but cannot load (a broken install is not a missing package)', () => {
    const broken = join(__dirname, '..', 'application', 'support', 'persistence', 'broken-dependency.js');
    let thrown: unknown;
    try {
      requireOptionalPeer(broken, 'a test');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).not.toBeInstanceOf(ConfigurationError);
    expect((thrown as Error).message).toMatch(/^Cannot find module 'eventsourcing-nact-test-no-such-driver'/);
  });
});
