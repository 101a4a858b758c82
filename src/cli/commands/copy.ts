/**
 * `chimera copy FROM TO [--json]`: copies a whole state between stores (memory, sqlite:PATH,
 * production), page by page, resumable after a kill, verified at the end by the state digest of
 * both sides and every audit chain (src/app/copy.ts). A target holding anything but this same
 * copy is refused (exit 2, one line naming it); a copy whose sides differ afterwards exits 1,
 * naming the section.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { copyState, CopyVerificationError, type CopyResult } from '../../app/copy.ts';
import { resolve } from 'node:path';
import { openCopySide, parseCopySide, type OpenedCopySide } from '../../config/copy-sides.ts';
import { ProgressBar } from '../progress.ts';
import { UsageError, oneLine, type Command } from '../command.ts';

const SIDES = 'memory, sqlite:PATH, production or connection:NAME';

function summaryLines(r: CopyResult, seconds: number): string[] {
  const c = r.counts;
  const w = r.written;
  return [
    `${r.already_finished ? 'already copied' : r.resumed ? 'resumed and copied' : 'copied'} ${r.source} → ${r.target}`,
    `  target holds ${c.campaigns} campaigns, ${c.tasks} tasks, ${c.audit} audit events (${r.chains} chains, verified), ${c.idempotency_keys} idempotency keys, ${c.queue_items} queue items, ${c.persona_cache} cached personas, ${c.persona_memories} persona memories, ${c.run_events} run events`,
    `  written now: ${Object.entries(w).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ') || 'nothing'} in ${seconds.toFixed(1)} s`,
    ...r.notes.map((n) => `  note: ${n}`),
    r.digests_equal
      ? `state digest sha256:${r.digest} (equal on both sides)`
      : `state digest sha256:${r.digest} (source sha256:${r.source_digest}: equal section by section but ${r.unlisted.join(', ')}, which one side does not keep)`,
  ];
}

export const copyCommand: Command = {
  name: 'copy',
  summary: 'Copy a whole state from one store to another, resumably, verified by digest',
  usage: [
    '  chimera copy FROM TO [--config FILE] [--json]',
    `    FROM, TO  ${SIDES}:`,
    '              memory        this process\'s memory: as FROM it is empty (nothing outlives a process),',
    '                            as TO the copy is made, verified and dropped (a check of the source)',
    '              sqlite:PATH   a SQLite file (and the persona memories beside it)',
    '              production    Postgres and Redis from CHIMERA_POSTGRES_URL, CHIMERA_REDIS_URL,',
    '                            CHIMERA_POSTGRES_SCHEMA and CHIMERA_REDIS_PREFIX',
    '              connection:NAME  a connection profile (config file or the app\'s; secrets from the environment',
    '                            or files); a read-only profile (the default) cannot be TO',
    '  TO must be empty, or hold this same copy from a run that was stopped (it goes on from there);',
    '  a finished copy run again changes nothing. --json prints one JSON object.',
  ].join('\n'),
  options: { json: { type: 'boolean', default: false }, config: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length !== 2) throw new UsageError(`give FROM and TO (each ${SIDES})`);
    const [fromSpec, toSpec] = positionals.map((p) => parseCopySide(p, io.cwd)) as [ReturnType<typeof parseCopySide>, ReturnType<typeof parseCopySide>];
    const where = (s: typeof fromSpec) => (s.kind === 'sqlite' ? s.path : 'name' in s ? s.name : '');
    if (fromSpec.kind === toSpec.kind && where(fromSpec) === where(toSpec) && fromSpec.kind !== 'memory') {
      throw new UsageError(`FROM and TO are the same store (${positionals[0]})`);
    }
    const opened: OpenedCopySide[] = [];
    const bar = new ProgressBar(io.stderr, 'copy', !values.json && Boolean(io.stderr.isTTY));
    const t0 = performance.now();
    let peakHeap = 0;
    try {
      const settings = { env: io.env, ...(values.config === undefined ? {} : { file: resolve(io.cwd, String(values.config)) }) };
      const from = await openCopySide(fromSpec, 'source', settings);
      opened.push(from);
      const to = await openCopySide(toSpec, 'target', settings);
      opened.push(to);
      let result: CopyResult;
      try {
        result = await copyState(from, to, {
          onProgress: (p) => {
            // the heap in use, sampled after every page: what the copy holds (the RSS adds Node, SQLite's caches and garbage not yet collected)
            peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
            bar.update(p.overall_done, p.overall_total, p.phase === 'copy' ? `copying ${p.section} ${p.done}/${p.total}` : `verifying ${p.side} ${p.section}`, performance.now());
          },
        });
      } catch (e) {
        bar.done();
        if (e instanceof CopyVerificationError) {
          io.stderr.write(`chimera copy: ${oneLine(e.message)}\n`);
          if (values.json) io.stdout.write(JSON.stringify({ ok: false, error: e.message, sections: e.sections }) + '\n');
          return 1;
        }
        throw e;
      }
      bar.done();
      const seconds = (performance.now() - t0) / 1000;
      const peak_rss_mb = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
      if (values.json) {
        io.stdout.write(JSON.stringify({ ok: true, ...result, elapsed_s: Math.round(seconds * 1000) / 1000, tasks_per_s: seconds > 0 ? Math.round((result.written.tasks ?? 0) / seconds) : 0, peak_rss_mb, peak_heap_used_mb: Math.round((peakHeap / 2 ** 20) * 10) / 10 }) + '\n');
      } else {
        io.stdout.write(summaryLines(result, seconds).join('\n') + '\n');
      }
      return 0;
    } finally {
      for (const s of opened.reverse()) await s.close();
    }
  },
};
