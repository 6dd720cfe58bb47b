// DuckDB SQL doing the same popularity + cooc (distinct items per session,
// pairs counted once per session, top 100 neighbours by count then id), the
// obvious alternative a user would script. Writes both results to JSON files.
// With `maxRows` > 0 it applies the same limits as our defaults: popularity
// keeps the `maxRows` most exposed items, cooc the rows of those items.
// Prints its phase times (ms) as one JSON line on stdout.
import { DuckDBInstance } from '@duckdb/node-api';

const [file, outDir, topN = '100', maxRows = '0'] = process.argv.slice(2);
const rowsLimit = Number(maxRows);
const phases = {};
let t = performance.now();
const lap = (name) => {
  const now = performance.now();
  phases[name] = Math.round(now - t);
  t = now;
};
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const q = (s) => con.run(s);
await q(`CREATE TABLE ev AS SELECT session_id, item_id FROM read_json('${file}', format='newline_delimited', columns={session_id: 'VARCHAR', item_id: 'VARCHAR'})`);
lap('load');
await q(`CREATE TABLE pop AS SELECT item_id, count(*) AS count FROM ev GROUP BY item_id ORDER BY count DESC, item_id${rowsLimit > 0 ? ` LIMIT ${rowsLimit}` : ''}`);
await q(`COPY (SELECT * FROM pop ORDER BY count DESC, item_id) TO '${outDir}/popularity.json' (FORMAT json, ARRAY true)`);
lap('popularity');
await q(`CREATE TABLE s AS SELECT DISTINCT session_id, item_id FROM ev`);
await q(`COPY (
  WITH pairs AS (
    SELECT a.item_id AS i, b.item_id AS j, count(*) AS c
    FROM s a JOIN s b ON a.session_id = b.session_id AND a.item_id <> b.item_id
    ${rowsLimit > 0 ? 'WHERE a.item_id IN (SELECT item_id FROM pop)' : ''}
    GROUP BY 1, 2
  ), ranked AS (
    SELECT i, j, c, row_number() OVER (PARTITION BY i ORDER BY c DESC, j) AS r FROM pairs
  )
  SELECT i AS item_id, list({'item_id': j, 'count': c} ORDER BY c DESC, j) AS items
  FROM ranked WHERE r <= ${Number(topN)} GROUP BY i ORDER BY i
) TO '${outDir}/cooc.json' (FORMAT json, ARRAY true)`);
lap('cooc');
con.closeSync?.();
process.stdout.write(JSON.stringify({ phases_ms: phases }) + '\n');
