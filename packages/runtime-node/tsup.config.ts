import { packageBuild } from '@recsys/tsup-config';

// Each worker is its own entry: the pools start them from `./parse-worker.js` / `./compute-worker.js` next to the bundle.
export default packageBuild({ entry: { index: 'src/index.ts', 'parse-worker': 'src/parse-worker.ts', 'compute-worker': 'src/compute-worker.ts' }, dts: { entry: { index: 'src/index.ts' } } });
