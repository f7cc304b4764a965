// autocannon, typed: the subset of its API the benchmarks use (the package ships no types).
import { createRequire } from 'node:module';

interface Histogram {
  average: number;
  p50: number;
  p99: number;
}
export interface LoadResult {
  requests: Histogram;
  latency: Histogram;
  non2xx: number;
  errors: number;
  timeouts: number;
}
export interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest(req: LoadRequest): LoadRequest;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  requests: LoadRequest[];
}) => Promise<LoadResult>;
export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
