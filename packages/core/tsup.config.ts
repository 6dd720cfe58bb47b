import { packageBuild } from '@recsys/tsup-config';

// `.` is the pipeline API; `./internal` adds what runtime adapters need; `./kernels` is what worker
// threads load (no schemas, no zod); `./testing` is test support.
export default packageBuild({ entry: { index: 'src/index.ts', internal: 'src/internal.ts', kernels: 'src/kernels.ts', testing: 'src/testing.ts' }, platform: 'neutral' });
