// `node --import ./tests/start/record-loads.mjs …`: appends the URL of every module the process
// resolves (static and dynamic imports, ESM and CommonJS loaded through import) to the file named by
// MEDGW_TEST_LOADS, one per line. Used by lazy-modules.test.ts.
import { register } from 'node:module';

const out = process.env.MEDGW_TEST_LOADS;
if (!out) throw new Error('record-loads.mjs: set MEDGW_TEST_LOADS to the file that receives the URLs');
register('./record-loads-hooks.mjs', import.meta.url, { data: { out } });
