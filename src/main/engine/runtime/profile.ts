// Reads an ORT profiling trace (Chrome trace JSON) and sums kernel time per op type and per node.
import { readFileSync } from 'node:fs';

/** Time spent in one op type or node, summed over the profiled runs. */
export interface ProfileEntry {
  name: string;
  ms: number;
  /** Kernel invocations counted. */
  calls: number;
}

/** Kernel time of a profiled session, largest first. */
export interface ProfileSummary {
  totalMs: number;
  byOp: ProfileEntry[];
  byNode: ProfileEntry[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** Sums the `Node` kernel events of a trace written by `Session.endProfiling()`. */
export function summarizeProfile(path: string): ProfileSummary {
  const events = JSON.parse(readFileSync(path, 'utf8')) as TraceEvent[];
  const byOp = new Map<string, ProfileEntry>();
  const byNode = new Map<string, ProfileEntry>();
  let total = 0;
  const add = (map: Map<string, ProfileEntry>, name: string, ms: number): void => {
    const e = map.get(name) ?? { name, ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    map.set(name, e);
  };
  for (const e of events) {
    if (e.cat !== 'Node' || typeof e.dur !== 'number' || !e.name?.endsWith('_kernel_time')) continue;
    const ms = e.dur / 1000;
    total += ms;
    add(byOp, e.args?.op_name ?? '?', ms);
    add(byNode, e.name.slice(0, -'_kernel_time'.length), ms);
  }
  const sorted = (m: Map<string, ProfileEntry>): ProfileEntry[] => [...m.values()].sort((a, b) => b.ms - a.ms);
  return { totalMs: total, byOp: sorted(byOp), byNode: sorted(byNode) };
}
