/** See test-server.js. */
export declare function useTestServer(server: { script: string; envVar: string; what: string; envPrefix?: string }): Promise<() => Promise<void>>;
