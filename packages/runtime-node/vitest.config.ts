import { defineProject } from 'vitest/config';
import { base } from '@recsys/vitest-config';

export default defineProject(base());
