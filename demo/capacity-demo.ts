import { join } from 'node:path';
import { formatCount } from '../common/progress.ts';
import { MODULES } from '../transformer/modules/index.ts';
import { BackendSim } from '../seeder/backlog/backend-sim.ts';
import { findCapacity, type CapacityResult } from '../seeder/backlog/capacity.ts';
import { writeCapacityReport } from '../seeder/backlog/capacity-report.ts';
import { formatCapacity } from '../seeder/backlog/capacity-summary.ts';

/** The stand-in backend of `seedline demo --capacity`: chat is the slow module. */
export const DEMO_SIM_CAPACITY: Readonly<Record<string, number>> = { chat: 200 };
const OTHER_MODULES_CAPACITY = 2000;

export interface CapacityDemoOptions {
  /** The events the demo transformed. */
  readonly events: string;
  readonly amqpUrl: string;
  /** An exchange of its own: the demo's queue on the main exchange has no consumer. */
  readonly exchange: string;
  /** Where capacity.json and capacity.html go. */
  readonly out: string;
  readonly signal?: AbortSignal;
  readonly say: (line: string) => void;
}

/**
 * A short capacity search against backend-sim (one queue per module, chat consuming 200/s,
 * the others 2,000/s), so a user sees what `seedline capacity` tells before pointing it at
 * staging. The sim's queues are deleted afterwards.
 */
export async function runCapacityDemo(o: CapacityDemoOptions): Promise<{ page: string; result: CapacityResult }> {
  const queues = MODULES.map((m) => ({ module: m.name, capacity: DEMO_SIM_CAPACITY[m.name] ?? OTHER_MODULES_CAPACITY }));
  const sim = await BackendSim.start({ url: o.amqpUrl, exchange: o.exchange, queues });
  o.say(`capacity: backend-sim on exchange '${o.exchange}': chat consumes ${formatCount(DEMO_SIM_CAPACITY.chat!)}/s, every other module ${formatCount(OTHER_MODULES_CAPACITY)}/s; searching (about a minute) ...`);
  try {
    const result = await findCapacity({ events: o.events, url: o.amqpUrl, exchange: o.exchange, from: 100, to: 5000, holdMs: 5000, precision: 0.1, signal: o.signal });
    const page = await writeCapacityReport(join(o.out, 'capacity.json'), result);
    o.say(formatCapacity(result));
    o.say(`capacity: report at ${page}`);
    return { page, result };
  } finally {
    await sim.stop({ deleteQueues: true });
  }
}
