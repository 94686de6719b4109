// One Jest configuration for every tier: unit (*.spec.ts, beside the code), integration
// (*.integration-spec.ts, real database and broker) and end-to-end (*.e2e-spec.ts, under test/).
const swcrc = JSON.parse(require('fs').readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swcrc.$schema;
delete swcrc.jsc.baseUrl;
delete swcrc.jsc.paths;

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test', '<rootDir>/migrations'],
  testRegex: '\\.(spec|integration-spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleNameMapper: {
    '^@continuum/(config|contracts|messaging|neural|ode|persistence|runtime)$': '<rootDir>/libs/$1/src/index.ts',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60_000,
  // PGlite and TensorFlow.js are memory-hungry; two workers fit a 2-core machine.
  maxWorkers: process.env.CI ? 2 : '50%',
};
