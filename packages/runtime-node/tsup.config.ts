import { packageBuild } from '@recsys/tsup-config';

// The worker is its own entry: the pool starts it from `./parse-worker.js` next to the bundle.
export default packageBuild({ entry: { index: 'src/index.ts', 'parse-worker': 'src/parse-worker.ts' }, dts: { entry: { index: 'src/index.ts' } } });
