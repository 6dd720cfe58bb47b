// Baseline: JSON.parse of every line of the given files on one core, with
// the same 1 MiB streaming reads as the pipeline. This is the floor that the
// issue's targets are expressed against (run ≤ 2× this).
import { createReadStream } from 'node:fs';

let lines = 0;
let checksum = 0;
const decoder = new TextDecoder();
for (const file of process.argv.slice(2)) {
  let carry = '';
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = carry + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const obj = JSON.parse(text.slice(start, nl));
      checksum += obj.item_id.length;
      lines++;
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  if (carry.trim()) {
    JSON.parse(carry);
    lines++;
  }
}
process.stdout.write(JSON.stringify({ lines, checksum }) + '\n');
