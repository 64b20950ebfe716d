// Records a realistic day of local-LLM usage into the default database (webui/monitoring.db, relative to
// the working directory) and prints what the database now holds. Run it from the repository root with
// `npm start`, or directly: `node examples/quickstart/record-sample.mjs [path/to/monitoring.db]`.
import { DEFAULT_DB_PATH, openMonitor } from '@llm-monitor/driver-node';

const path = process.argv[2] ?? DEFAULT_DB_PATH;
const CHAT = 'Qwen3-Coder-30B-A3B-Instruct-64K';
const GPU = 'DeepSeek-V3-Q4 (self-hosted GPU)';
const EMBED = 'bge-m3-embedding';

// A small deterministic generator, so every run records the same shape of day.
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const between = (lo, hi) => Math.floor(lo + random() * (hi - lo));

const now = Math.floor(Date.now() / 1000);
const dayStart = now - 24 * 3600;

const monitor = await openMonitor(path, { models: [CHAT, GPU, EMBED] });
try {
  // Billing: the chat model is billed per token in two tiers with cheaper cache hits; the GPU model per hour.
  await monitor.transaction(async (tx) => {
    await tx.updateBillingMethod(CHAT, true);
    await tx.updateTierPricing(CHAT, { tierIndex: 1, startTokens: 0, endTokens: 32768, inputPricePerMillion: 1.0, outputPricePerMillion: 2.5, supportCache: true, cacheHitPricePerMillion: 0.2 });
    if (!(await tx.getModelBilling(CHAT)).tierPricing.some((t) => t.tierIndex === 2))
      await tx.addTierPricing(CHAT, [2, 32769, -1, 0.8, 2.0]);
    await tx.updateBillingMethod(GPU, false);
    await tx.updateHourlyPrice(GPU, 7.25);
    await tx.updateTierPricing(EMBED, [1, 0, 8192, 0.02, 0]);
  });

  // The program ran all day; each model ran in sessions during working hours.
  await monitor.addProgramRuntimeStart(dayStart);
  let recorded = 0;
  for (const [model, sessions] of [
    [CHAT, [[8, 12.5], [13.5, 19]]],
    [GPU, [[9, 11], [15, 17.25]]],
    [EMBED, [[8, 20]]],
  ]) {
    for (const [from, to] of sessions) {
      const start = dayStart + from * 3600;
      const end = dayStart + to * 3600;
      await monitor.addModelRuntimeStart(model, start);
      // Busier around late morning and mid-afternoon: a daily rhythm.
      const requests = [];
      for (let t = start + between(5, 60); t < end; t += between(20, 240)) {
        const hour = (t - dayStart) / 3600;
        if (random() > 0.35 + 0.5 * Math.sin(((hour - 7) / 12) * Math.PI) ** 2) continue;
        if (model === EMBED) requests.push([t, between(50, 4000), 0]);
        else {
          const input = random() < 0.1 ? between(32769, 60000) : between(300, 12000);
          const cached = model === CHAT ? Math.floor(input * random() * 0.8) : 0;
          requests.push([t, input, between(50, 2000), cached, input - cached]);
        }
      }
      recorded += await monitor.addModelRequests(model, requests);
      await monitor.updateModelRuntimeEnd(model, end);
    }
  }
  await monitor.updateProgramRuntimeEnd(now);

  console.log(`Recorded ${recorded} requests into ${path}\n`);
  console.log('model                              billing          runs  requests  input tok  output tok  cache hits');
  for (const { name } of await monitor.listModels()) {
    const billing = await monitor.getModelBilling(name);
    const runs = await monitor.getModelRuntime(name);
    const requests = await monitor.getModelRequests(name);
    const sum = (key) => requests.reduce((total, r) => total + r[key], 0);
    const method = billing.useTierPricing ? `tier x${billing.tierPricing.length}` : `${billing.hourlyPrice}/hour`;
    console.log(
      `${name.padEnd(34)} ${method.padEnd(16)} ${String(runs.length).padStart(4)}  ${String(requests.length).padStart(8)}  ${String(sum('inputTokens')).padStart(9)}  ${String(sum('outputTokens')).padStart(10)}  ${String(sum('cacheN')).padStart(10)}`,
    );
  }
  const [latest] = await monitor.getProgramRuntime(1);
  console.log(`\nLatest program run: ${new Date(latest.startTime * 1000).toISOString()} → ${new Date(latest.endTime * 1000).toISOString()}`);
} finally {
  await monitor.close();
}
