import { analyticsSuite, driverConformanceSuite, monitorBehaviourSuite } from '@llm-monitor/test-kit';
import { nodeHarness } from './harness.js';

driverConformanceSuite(nodeHarness);
monitorBehaviourSuite(nodeHarness);
analyticsSuite(nodeHarness);
