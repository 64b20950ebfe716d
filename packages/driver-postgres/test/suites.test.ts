import { analyticsSuite, driverConformanceSuite, monitorBehaviourSuite } from '@llm-monitor/test-kit';
import { describe } from 'vitest';
import { SUITE_TITLE, pgAvailable, pgHarness } from './harness.js';

describe.skipIf(!pgAvailable)(SUITE_TITLE, () => {
  driverConformanceSuite(pgHarness);
  monitorBehaviourSuite(pgHarness);
  analyticsSuite(pgHarness);
});
