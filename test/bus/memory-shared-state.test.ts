import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { sharedStateContract } from './shared-state.contract.ts';

// One store for every handle, as two processes share one Redis; each test uses its own key.
const store = new MemorySharedState();
sharedStateContract('memory', async () => store);
