import type { Monitor } from '../../src/index.js';

/** What one writer of the flood did: the seqs of its rows, by whether their call resolved. */
export interface FloodReport {
  writer: number;
  acknowledged: number[];
  failed: { seq: number; code: string; message: string }[];
  calls: number;
  maxLatencyMs: number;
}

export const SHARED_MODEL: string;
export function ownModel(writer: number): string;
export function rowOf(writer: number, seq: number): [number, number, number, number, number];
export function flood(monitor: Monitor, options: { writer: number; until: number }): Promise<FloodReport>;
