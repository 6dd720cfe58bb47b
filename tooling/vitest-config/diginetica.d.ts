/** See diginetica.js. */
export declare const DIGINETICA_CSV: string;
/** One distinct exposure of the sample. */
export interface DigineticaEvent {
  readonly session: string;
  readonly item: string;
}
/** See diginetica.js. */
export declare function digineticaEventsByDay(): Map<string, DigineticaEvent[]>;
/** See diginetica.js. */
export declare function bruteForceCounts(
  days: ReadonlyMap<string, readonly DigineticaEvent[]>,
  window: readonly string[],
): { exposures: Map<string, number>; together: Map<string, Map<string, number>> };
