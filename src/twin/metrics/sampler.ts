// Scrapes the twin into the series store on the twin's clock, as a Prometheus with a fixed scrape
// interval would: once at start, then every interval (15 s by default). On a VirtualClock a simulated
// day is 5,760 scrapes that cost nothing but the collection itself. It must never read the wall clock.
import type { Clock } from '../../core/clock.ts';
import { SeriesStore, type SeriesStoreOptions } from './series-store.ts';
import { TwinCollector, type TwinReader } from './twin-collector.ts';

export interface SamplerOptions extends SeriesStoreOptions {
  /** Default 15 s. */
  intervalMs?: number;
  /** Record into this store instead of a new one. */
  store?: SeriesStore;
  /** Scrape at start (default true). */
  immediate?: boolean;
}

export interface Sampler {
  readonly store: SeriesStore;
  readonly collector: TwinCollector;
  readonly intervalMs: number;
  /** Records one scrape now (the timers keep their schedule). */
  scrape(): void;
  stop(): void;
}

/** Starts sampling the twin into a store; stop() cancels the timer. */
export function startSampler(twin: TwinReader, opts: SamplerOptions = {}): Sampler {
  const clock: Clock = twin.clock;
  const intervalMs = opts.intervalMs ?? 15_000;
  if (!(intervalMs > 0)) throw new RangeError('intervalMs must be > 0');
  const store = opts.store ?? new SeriesStore(opts);
  const collector = new TwinCollector(twin);
  let cancel: (() => void) | undefined;
  let stopped = false;

  const scrape = () => {
    const { timestampMs, samples } = collector.collect();
    const newest = store.newestMs();
    // Two scrapes at one instant (a manual scrape on a timer's tick): the first one stands.
    if (newest !== undefined && timestampMs <= newest) return;
    store.append(timestampMs, samples);
  };
  const arm = () => {
    cancel = clock.setTimer(intervalMs, () => {
      if (stopped) return;
      scrape();
      arm();
    });
  };
  if (opts.immediate ?? true) scrape();
  arm();
  return {
    store,
    collector,
    intervalMs,
    scrape,
    stop() {
      stopped = true;
      cancel?.();
    },
  };
}
