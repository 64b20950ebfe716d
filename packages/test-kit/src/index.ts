export type { DriverHarness } from './harness.js';
export { driverConformanceSuite } from './conformance.js';
export { monitorBehaviourSuite } from './monitor-suite.js';
export { analyticsSuite } from './analytics-suite.js';
export { closeTo, fixtureBytes, fixtureJson, fixturePath, type FixtureName } from './fixtures.js';
