import type { Dialect } from '../../driver/dialect.js';
import type { PerModelShape } from '../detect-shape.js';
import type { ModelLayout, RequestSource } from './layout.js';
import { requestsSelect } from './layout.js';
import { modelTableNames, optionalColumn, perModelRunSource, perModelRuntimeQuery, readPerModelBilling } from './native.js';

/**
 * The per-model layouts later versions of the original wrote without migrations, read only:
 * S4 (requests carry `start_time` and `end_time` instead of `timestamp`; a request's time is its end) and
 * S5 (tiers become 2-D input × output windows). Runs and the billing method / hourly price tables are
 * the native ones.
 */

export const WINDOW_COLUMNS =
  'tier_index, min_input_tokens, max_input_tokens, min_output_tokens, max_output_tokens, input_price, output_price, support_cache, cache_write_price, cache_read_price';

export function legacyLayout(d: Dialect, safeName: string, detected: PerModelShape, tables: ReadonlyMap<string, ReadonlyMap<string, boolean>>): ModelLayout {
  const names = modelTableNames(safeName);
  const requestColumns = tables.get(names.requests);
  const tierColumns = tables.get(names.tierPricing);
  const windows = detected.shape === 'S5';
  const requestSource: RequestSource = {
    present: requestColumns !== undefined,
    table: d.quoteIdentifier(names.requests),
    time: 'end_time',
    where: [],
    params: [],
    cacheColumns: Boolean(requestColumns?.has('cache_n') && requestColumns.has('prompt_n')),
  };
  const cacheSelect = `${optionalColumn(requestColumns, 'cache_n')}, ${optionalColumn(requestColumns, 'prompt_n')}`;
  const q = d.quoteIdentifier;
  const tierSelect = windows
    ? `SELECT ${WINDOW_COLUMNS} FROM ${q(names.tierPricing)} ORDER BY tier_index`
    : `SELECT tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million, ${optionalColumn(tierColumns, 'support_cache')}, ${optionalColumn(tierColumns, 'cache_hit_price_per_million')} FROM ${q(names.tierPricing)} ORDER BY tier_index`;
  return {
    shape: detected.shape,
    safeName,
    missingTables: detected.missingTables,
    writes: null,
    runtimeQuery: (limit) => perModelRuntimeQuery(d, safeName, limit),
    requestsQuery: (filter) => requestsSelect(requestSource, cacheSelect, filter),
    readBilling: (session) => readPerModelBilling(session, safeName, windows ? 'windows' : 'ranges', tierSelect),
    requestSource,
    runSource: perModelRunSource(d, safeName, tables),
  };
}
