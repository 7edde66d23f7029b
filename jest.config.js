/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The package's own name, as examples and README snippets import it, resolves to the sources
  // (as tsconfig.json's paths do for tsc and tsx).
  moduleNameMapper: {
    '^eventsourcing-nact$': '<rootDir>/src/index.ts',
    '^eventsourcing-nact/sqlite$': '<rootDir>/src/persistence/sqlite/index.ts',
    '^eventsourcing-nact/postgres$': '<rootDir>/src/persistence/postgres/index.ts',
    '^eventsourcing-nact/actors$': '<rootDir>/src/actors/index.ts',
    '^eventsourcing-nact/testing$': '<rootDir>/src/testing/index.ts',
  },
  transform: {
    '^.+\\.ts$': 'ts-jest',
  },
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testTimeout: 60000,
};
