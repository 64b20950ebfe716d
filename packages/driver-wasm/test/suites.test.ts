import { analyticsSuite, driverConformanceSuite, monitorBehaviourSuite } from '@llm-monitor/test-kit';
import { wasmHarness } from './harness.js';

driverConformanceSuite(wasmHarness);
monitorBehaviourSuite(wasmHarness);
analyticsSuite(wasmHarness);
