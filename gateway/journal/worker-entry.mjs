// Entry of the journal thread (threaded.ts): a worker does not inherit the main thread's loader
// hooks, so it registers the TypeScript loader itself before loading worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
