import { execFileSync } from 'node:child_process';
import { S3Client, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
const [port, dir] = process.argv.slice(2);
const c = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testaccesskey', secretAccessKey: 'testsecretkey' } });
const used = () => JSON.parse(execFileSync('ceph', ['--cluster', 'cephs3', '-c', `${dir}/cephs3.conf`, 'tell', 'osd.0', 'perf', 'dump'], { encoding: 'utf8' })).osd.stat_bytes_used;
console.log('before', used());
await new Upload({ client: c, params: { Bucket: 'test-bucket', Key: 'gc/big', Body: Buffer.alloc(50 * 1048576, 7) }, partSize: 16 * 1048576 }).done();
console.log('after upload', used());
await c.send(new DeleteObjectCommand({ Bucket: 'test-bucket', Key: 'gc/big' }));
for (let t = 0; t <= 40; t += 5) { console.log(`+${t}s after delete`, used()); await new Promise((r) => setTimeout(r, 5000)); }
