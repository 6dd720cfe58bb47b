/** See seeded-random.js. */
export declare function seededRandom(seed: number): () => number;
