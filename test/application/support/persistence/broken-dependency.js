// A persistence module that cannot load: it requires a package that is not installed.
require('eventsourcing-nact-test-no-such-driver');

exports.infrastructureFactory = () => undefined;
