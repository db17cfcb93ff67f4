import { MemoryEventBus } from '../../src/bus/memory-event-bus.ts';
import { eventBusContract } from './event-bus.contract.ts';

eventBusContract('memory', async (opts) => new MemoryEventBus(opts));
