import { CLOUD_CATALOG, cloudModel } from '@llm-monitor/core/cloud';
import { describe, expect, it } from 'vitest';
import { SUGGESTED_CLOUD_MODELS } from '../../src/lib/cloud-models.js';

describe(`the cloud models offered, in ${CLOUD_CATALOG.name} ${CLOUD_CATALOG.version}`, () => {
  it.each(SUGGESTED_CLOUD_MODELS)('%s is in the catalog', (ref) => {
    const model = cloudModel(ref);
    expect(model.ref).toBe(ref);
    expect(model.providerId).toBe(ref.split(':')[0]);
  });

  it('an unknown one is core’s typed error, as the page shows it', () => {
    expect(() => cloudModel('openai:no-such-model')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('Unknown cloud model') }));
  });
});
