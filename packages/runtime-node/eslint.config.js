import { config } from '@recsys/eslint-config';

export default config();
