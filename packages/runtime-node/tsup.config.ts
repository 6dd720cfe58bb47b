import { packageBuild } from '@recsys/tsup-config';

// The worker is its own entry: the pools start it from `./worker.js` next to the bundle.
export default packageBuild({ entry: { index: 'src/index.ts', worker: 'src/worker.ts' }, dts: { entry: { index: 'src/index.ts' } } });
