/** One measured figure, printed by bench/run.ts next to the baseline it is judged against. */
export interface BenchResult {
  /** What was measured, e.g. "GraphQL `me` over HTTP: requests/s". */
  name: string;
  value: number;
  unit: string;
  /** The floor or reference measured in the same run, in the same unit. */
  baseline?: { name: string; value: number };
  /** How `value` compares to the baseline: "higher" (throughput) or "lower" (latency) is better. */
  better?: 'higher' | 'lower';
  /** The ratio value/baseline the figure should reach (≥ for "higher", ≤ for "lower"). */
  target?: number;
}

export type Bench = () => Promise<BenchResult[]>;
