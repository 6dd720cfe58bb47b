/** See diginetica.js. */
export declare const DIGINETICA_CSV: string;
/** One distinct exposure of the sample. */
export interface DigineticaEvent {
  readonly session: string;
  readonly item: string;
}
/** See diginetica.js. */
export declare function digineticaEventsByDay(): Map<string, DigineticaEvent[]>;
