import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { checkEncodable } from '../monitor/validate.js';

/**
 * The table-name prefix of a model, byte-identical to the original's
 * `"model_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]`. Pure and synchronous.
 * Throws `INVALID_INPUT` for a string with a lone surrogate, which Python cannot encode either.
 *
 * @example getSafeModelName('Qwen3-Coder-30B-A3B-Instruct-UD-64K') // 'model_13611871a86e4690'
 */
export function getSafeModelName(name: string): string {
  const encodable = checkEncodable(name);
  return `model_${bytesToHex(sha256(new TextEncoder().encode(encodable))).slice(0, 16)}`;
}
