// Types for common.mjs (shared with the plain-JS native benchmark).
export function parseArgs(argv: string[]): { workload: string; n?: number; rep: number; warmup: boolean };
export const DEFAULT_N: Record<string, number>;
export const NO_WARMUP: Set<string>;
export function delayMs(i: number): number;
