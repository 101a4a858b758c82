/**
 * A copy that SIGKILLs itself after its Nth committed page: `node --import tsx copy-child.ts
 * FROM TO N PAGE_SIZE` (the store's settings from the environment). It never ends on its own
 * before page N unless the copy has fewer pages (then it exits 0).
 */
import { copyState } from '../../src/app/copy.ts';
import { openCopySide, parseCopySide } from '../../src/config/copy-sides.ts';

const [fromText, toText, killAt, pageSize] = process.argv.slice(2) as [string, string, string, string];
const from = await openCopySide(parseCopySide(fromText, process.cwd()), 'source', { env: process.env });
const to = await openCopySide(parseCopySide(toText, process.cwd()), 'target', { env: process.env });
await copyState(from, to, {
  pageSize: Number(pageSize),
  afterPage: (section, n) => {
    if (n === Number(killAt)) {
      process.stderr.write(`killing at page ${n} (${section})\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
await to.close();
await from.close();
