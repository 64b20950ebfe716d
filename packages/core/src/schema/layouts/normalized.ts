import type { Session } from '../../driver/executor.js';
import type { NormalizedShape } from '../detect-shape.js';
import { type StoredBilling, num, storedBilling } from '../file-values.js';
import { type ModelLayout, type RequestSource, limited, requestsSelect } from './layout.js';
import { WINDOW_COLUMNS } from './legacy.js';

/**
 * The normalized layouts of LLM-Manager v2.6 (S6) and v3 (S7), read only: every model's rows in shared
 * tables keyed by `model_id`. S7 stores an open run with a NULL end and keeps pricing in `model_defs` +
 * `pricing_tiers` (matched by the model's name); S6 in `tier_pricing`, `hourly_pricing`, `billing_methods`.
 */

/** The model list and lookup of the normalized layouts. */
export const normalizedModels = {
  list: 'SELECT id, original_name FROM models ORDER BY id',
  lookup: 'SELECT id FROM models WHERE original_name = ?',
};

async function readS6Billing(session: Session, modelId: number): Promise<StoredBilling> {
  const [method] = await session.query('SELECT use_tier_pricing FROM billing_methods WHERE model_id = ?', [modelId]);
  if (!method) return storedBilling(undefined, undefined, 'windows', []);
  const [hourly] = await session.query('SELECT hourly_price FROM hourly_pricing WHERE model_id = ?', [modelId]);
  const rows = await session.query(`SELECT ${WINDOW_COLUMNS} FROM tier_pricing WHERE model_id = ? ORDER BY tier_index`, [modelId]);
  return storedBilling(method.use_tier_pricing, hourly?.hourly_price, 'windows', rows);
}

async function readS7Billing(session: Session, name: string): Promise<StoredBilling> {
  const [def] = await session.query('SELECT id, pricing_type, hourly_price, support_cache FROM model_defs WHERE name = ?', [name]);
  if (!def) return storedBilling(undefined, undefined, 'windows', []);
  const rows = await session.query(
    `SELECT tier_index, COALESCE(min_input, 0) AS min_input_tokens, COALESCE(max_input, -1) AS max_input_tokens,
      COALESCE(min_output, 0) AS min_output_tokens, COALESCE(max_output, -1) AS max_output_tokens,
      COALESCE(input_price, 0) AS input_price, COALESCE(output_price, 0) AS output_price,
      COALESCE(cache_write_price, 0) AS cache_write_price, COALESCE(cache_read_price, 0) AS cache_read_price
     FROM pricing_tiers WHERE pricing_id = ? ORDER BY tier_index`,
    [num(def.id)],
  );
  // S7 keeps cache support per model: every window of it has the model's
  const windows = rows.map((row) => ({ ...row, support_cache: def.support_cache ?? 0 }));
  return storedBilling(String(def.pricing_type) !== 'hourly', def.hourly_price, 'windows', windows);
}

export function normalizedLayout(shape: NormalizedShape, name: string, modelId: number): ModelLayout {
  const requestSource: RequestSource = { present: true, table: 'model_requests', time: 'end_time', where: ['model_id = ?'], params: [modelId], cacheColumns: true };
  return {
    shape,
    safeName: null,
    missingTables: [],
    writes: null,
    runtimeQuery: (limit) =>
      limited('SELECT id, start_time, COALESCE(end_time, start_time) AS end_time FROM model_runtime WHERE model_id = ? ORDER BY id DESC', [modelId], limit),
    requestsQuery: (filter) => requestsSelect(requestSource, 'cache_n, prompt_n', filter),
    readBilling: (session) => (shape === 'S6' ? readS6Billing(session, modelId) : readS7Billing(session, name)),
    requestSource,
    runSource: {
      present: true,
      table: 'model_runtime',
      end: 'COALESCE(end_time, start_time)',
      nullEnd: 'CASE WHEN end_time IS NULL THEN 1 ELSE 0 END',
      where: ['model_id = ?'],
      params: [modelId],
    },
  };
}
