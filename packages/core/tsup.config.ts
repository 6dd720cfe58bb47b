import { packageBuild } from '@recsys/tsup-config';

// `.` is the pipeline API; `./internal` adds what runtime adapters need; `./testing` is test support.
export default packageBuild({ entry: { index: 'src/index.ts', internal: 'src/internal.ts', testing: 'src/testing.ts' }, platform: 'neutral' });
