/** See test-server.js. */
export declare function useTestServer(server: { script: string; envVar: string; what: string; envPrefix?: string }): Promise<() => Promise<void>>;
/** See test-server.js. */
export declare function leaseTestServer(server: { script: string; what: string; instance: Record<string, string> }): Promise<() => Promise<void>>;
/** See test-server.js. */
export declare function startLeasedTestServer(server: { script: string; what: string; instance: Record<string, string> }): Promise<Record<string, string>>;
