import { packageBuild } from '@recsys/tsup-config';

export default packageBuild({ entry: { bin: 'src/bin.ts' }, dts: false });
