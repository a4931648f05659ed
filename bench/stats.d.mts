// Types for stats.mjs (the statistics of bench/run.mjs).
export interface Spread {
  median: number;
  min: number;
  max: number;
  count: number;
}
export interface TargetStatus {
  status: 'every' | 'median' | 'no';
  met: number;
  reps: number;
}
export function median(xs: number[]): number;
export function spreadOf(xs: number[]): Spread;
export function pairedRatios(
  mine: { rep: number; ops_per_s?: number }[],
  other: { rep: number; ops_per_s?: number }[],
): number[];
export function pairedCpuRatios(
  mine: { rep: number; n?: number; cpu_ms?: number }[],
  other: { rep: number; n?: number; cpu_ms?: number }[],
): number[];
export function targetStatus(medianRatio: number, perRep: number[], want: number): TargetStatus;
export function describeTarget(t: TargetStatus): string;
export function short(x: number | undefined): string;
export function rangeText(s: Spread, unit?: string): string;
