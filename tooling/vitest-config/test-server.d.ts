/** See test-server.js. */
export declare function useTestServer(server: { script: string; envVar: string; what: string }): Promise<() => Promise<void>>;
