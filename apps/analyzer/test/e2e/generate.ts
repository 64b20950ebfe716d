import { openMonitor } from '@llm-monitor/driver-node';

/**
 * A realistic monitoring file of `total` requests over 30 days: six models, busy office hours and quiet
 * weekends, tier-billed and hourly-billed models, daily runs, a two-day outage of one model and a program
 * that restarts every night. Deterministic (a fixed seed and end date).
 */
export const END = 1_767_225_600; // 2026-01-01T00:00:00Z
const DAYS = 30;
export const START = END - DAYS * 86_400;

interface ModelPlan {
  name: string;
  share: number;
  setup(monitor: Awaited<ReturnType<typeof openMonitor>>): Promise<void>;
  /** Typical input and output sizes. */
  input: number;
  output: number;
  /** Fraction of input served from the KV cache. */
  cache: number;
  down?: [number, number];
}

const MODELS: ModelPlan[] = [
  {
    name: 'Qwen3-Coder-30B-A3B-Instruct',
    share: 0.34,
    input: 9000,
    output: 700,
    cache: 0.6,
    async setup(m) {
      await m.updateTierPricing(this.name, { tierIndex: 1, startTokens: 0, endTokens: 32_768, inputPricePerMillion: 1.5, outputPricePerMillion: 6, supportCache: true, cacheHitPricePerMillion: 0.3 });
      await m.addTierPricing(this.name, { tierIndex: 2, startTokens: 32_769, endTokens: 131_072, inputPricePerMillion: 2.5, outputPricePerMillion: 10, supportCache: true, cacheHitPricePerMillion: 0.5 });
      await m.addTierPricing(this.name, [3, 131_073, -1, 4, 16]);
    },
  },
  {
    name: 'Llama-3.3-70B-Instruct-Q4_K_M',
    share: 0.2,
    input: 3000,
    output: 500,
    cache: 0.2,
    async setup(m) {
      await m.updateTierPricing(this.name, [1, 0, 16_384, 1.2, 3]);
      await m.addTierPricing(this.name, [2, 16_385, 65_536, 0.9, 2.4]);
      await m.addTierPricing(this.name, [3, 65_537, -1, 0.5, 1.5]);
    },
  },
  {
    name: 'DeepSeek-V3 (self-hosted)',
    share: 0.16,
    input: 6000,
    output: 900,
    cache: 0.4,
    async setup(m) {
      await m.updateBillingMethod(this.name, false);
      await m.updateHourlyPrice(this.name, 7.25);
    },
  },
  {
    name: 'gpt-oss-120b',
    share: 0.15,
    input: 4000,
    output: 1200,
    cache: 0.3,
    down: [12, 14],
    async setup(m) {
      await m.updateTierPricing(this.name, [1, 0, 131_072, 0.8, 2.4]);
    },
  },
  {
    name: 'GLM-4.6',
    share: 0.1,
    input: 5000,
    output: 800,
    cache: 0.5,
    async setup(m) {
      await m.updateBillingMethod(this.name, false);
      await m.updateHourlyPrice(this.name, 4.5);
    },
  },
  {
    name: 'bge-m3 (embeddings)',
    share: 0.05,
    input: 400,
    output: 0,
    cache: 0,
    async setup(m) {
      await m.updateTierPricing(this.name, [1, 0, 8192, 0.02, 0]);
    },
  },
];

/** Relative load by UTC hour: a working day in Central Europe, a little at night. */
const HOURLY = [1, 1, 1, 1, 1, 2, 4, 10, 16, 18, 18, 15, 12, 16, 18, 18, 16, 12, 8, 6, 5, 4, 2, 1];

export async function generateLargeFile(path: string, total: number): Promise<void> {
  let seed = 20_260_101;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const monitor = await openMonitor(path, { models: MODELS.map((m) => m.name) });
  try {
    for (let day = 0; day < DAYS; day++) {
      const t = START + day * 86_400;
      await monitor.addProgramRuntimeStart(t + 5 * 60);
      await monitor.updateProgramRuntimeEnd(t + 86_400 - 10 * 60);
    }
    const weights: number[] = [];
    for (let day = 0; day < DAYS; day++) {
      const weekday = new Date((START + day * 86_400) * 1000).getUTCDay();
      const weekend = weekday === 0 || weekday === 6 ? 0.25 : 1;
      for (let hour = 0; hour < 24; hour++) weights.push(HOURLY[hour]! * weekend);
    }
    for (const plan of MODELS) {
      await plan.setup(monitor);
      const up = weights.map((w, i) => {
        const day = Math.floor(i / 24);
        const hour = i % 24;
        return plan.down && day >= plan.down[0] && day < plan.down[1] ? 0 : hour >= 6 && hour < 23 ? w : 0;
      });
      for (let day = 0; day < DAYS; day++) {
        if (plan.down && day >= plan.down[0] && day < plan.down[1]) continue;
        await monitor.addModelRuntimeStart(plan.name, START + day * 86_400 + 6 * 3600);
        await monitor.updateModelRuntimeEnd(plan.name, START + day * 86_400 + 23 * 3600);
      }
      const sum = up.reduce((a, b) => a + b, 0);
      const count = Math.round(total * plan.share);
      let batch: [number, number, number, number, number][] = [];
      let cumulative = 0;
      for (let hourIndex = 0; hourIndex < up.length; hourIndex++) {
        // by cumulative shares, so the hours add up to exactly `count`
        const before = Math.round((count * cumulative) / sum);
        cumulative += up[hourIndex]!;
        const n = Math.round((count * cumulative) / sum) - before;
        for (let k = 0; k < n; k++) {
          const timestamp = START + hourIndex * 3600 + random() * 3600;
          const input = Math.max(1, Math.floor(plan.input * -Math.log(1 - random() * 0.999)));
          const output = plan.output === 0 ? 0 : Math.max(1, Math.floor(plan.output * -Math.log(1 - random() * 0.999)));
          const cached = Math.floor(input * plan.cache * random());
          batch.push([timestamp, input, output, cached, input - cached]);
          if (batch.length === 50_000) {
            await monitor.addModelRequests(plan.name, batch);
            batch = [];
          }
        }
      }
      if (batch.length) await monitor.addModelRequests(plan.name, batch);
    }
  } finally {
    await monitor.close();
  }
}
