// Run by hostile-files.test.ts as an unprivileged user (root ignores file modes, so chmod 0444 only
// means something to another user). Tries each case in argv[2] (JSON: [{ label, path, readOnly,
// write? }]) and prints one JSON line: [{ label, opened, code?, message?, models?, writeCode? }].
// It imports the BUILT package, as an application would.
import { openMonitor } from '@llm-monitor/driver-node';

const cases = JSON.parse(process.argv[2] ?? '[]');
const results = [];
for (const { label, path, readOnly, write } of cases) {
  const result = { label };
  try {
    const monitor = await openMonitor(path, { readOnly });
    result.opened = true;
    try {
      result.models = (await monitor.listModels()).length;
      if (write) {
        try {
          await monitor.addModelRequest(write, [1_700_000_000, 1, 1]);
          result.writeCode = 'OK';
        } catch (error) {
          result.writeCode = error?.code ?? 'THROWN';
          result.writeMessage = String(error?.message ?? error);
        }
      }
    } finally {
      await monitor.close();
    }
  } catch (error) {
    result.opened = false;
    result.code = error?.code ?? 'THROWN';
    result.name = error?.name;
    result.message = String(error?.message ?? error);
  }
  results.push(result);
}
process.stdout.write(`${JSON.stringify(results)}\n`);
