const { createDefaultPreset } = require('ts-jest');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type errors are caught by `npm run typecheck`; ts-jest only transpiles (isolatedModules).
  ...createDefaultPreset({ tsconfig: 'tsconfig.json' }),
  testTimeout: 20000,
};
