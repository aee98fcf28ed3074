const { createDefaultPreset } = require('ts-jest');

const preset = createDefaultPreset({ tsconfig: 'tsconfig.json' });

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type errors are caught by `npm run typecheck`; ts-jest only transpiles (isolatedModules).
  ...preset,
  // commander is ES modules only, which jest's module system cannot require on Node 20: ts-jest
  // turns its files into CommonJS for the tests (Node loads them as they are).
  transform: {
    ...preset.transform,
    '/node_modules/commander/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!commander/)'],
  testTimeout: 20000,
};
