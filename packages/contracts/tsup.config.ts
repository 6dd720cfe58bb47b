import { packageBuild } from '@recsys/tsup-config';

// `./codec` is the zod-free subset (timestamps, Go JSON escaping) for hot paths that start often.
export default packageBuild({ entry: ['src/index.ts', 'src/codec.ts'], platform: 'neutral' });
