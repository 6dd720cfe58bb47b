import { packageBuild } from '@recsys/tsup-config';

export default packageBuild({ entry: ['src/index.ts'] });
