// Types for common.mjs (shared with the plain-JS native benchmark).
export function parseArgs(argv: string[]): { workload: string; n?: number; rep: number; warmup: boolean };
export const DEFAULT_N: Record<string, number>;
export const NO_WARMUP: Set<string>;
export function delayMs(i: number): number;
export const WARMUP_ROUNDS: number;
export function threadTimes(): { cpu: number; wait: number } | null;
export function threadFields(
  t0: { cpu: number; wait: number } | null,
  t1: { cpu: number; wait: number } | null,
): { cpu_ms?: number; wait_ms?: number };
