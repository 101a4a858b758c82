/**
 * The layer rules of README.md ("Layers"), checked over every import of src/, bench/,
 * server/, electron/, renderer/ and bin/. A failure lists each wrong-way import as
 * `file:line  'specifier'  rule`. The rules are data in ./layers.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkImport, checkTree, formatViolation, importsOf, layerOf, type ImportRef } from './layers.ts';

describe('layering', () => {
  it('has no wrong-way import in the source tree', () => {
    const report = checkTree();
    console.log(`layering: ${report.files} files, ${report.imports} imports checked, ${report.violations.length} violations, ${report.usedExceptions.length} temporary exceptions`);
    for (const e of report.usedExceptions) console.log(`layering: allowed for now: ${e.from} → ${e.to} (${e.why})`);
    expect(report.violations.map(formatViolation).join('\n'), 'wrong-way imports').toBe('');
    expect(
      report.staleExceptions.map((e) => `${e.from} → ${e.to}`),
      'exceptions that match no import any more: delete them from EXCEPTIONS in test/layering/layers.ts',
    ).toEqual([]);
  });

  it('puts each source folder in the layer the README names', () => {
    expect(layerOf('src/domain/audit.ts')).toBe('domain');
    expect(layerOf('src/ports/guards/guarded-state-store.ts')).toBe('ports');
    expect(layerOf('src/adapters/sqlite/sqlite-queue.ts')).toBe('adapters/sqlite');
    expect(layerOf('src/adapters/shared/ordering.ts')).toBe('adapters/shared');
    expect(layerOf('src/scenarios/load.ts')).toBe('app');
    expect(layerOf('bin/chimera.mjs')).toBe('cli');
    expect(layerOf('renderer/src/App.tsx')).toBe('renderer');
    expect(layerOf('test/layering/layers.ts')).toBeNull();
  });

  // the checker itself, on imports written here: each must be caught (or let through) for the
  // right reason, whatever the tree holds today
  const check = (file: string, line: string): (string | null)[] => importsOf(file, line).map((ref: ImportRef) => checkImport(ref));

  it('catches every kind of import that goes the wrong way', () => {
    const cases: [file: string, source: string, rule: RegExp][] = [
      ['src/domain/x.ts', "import { SqliteQueue } from '../adapters/sqlite/sqlite-queue.ts';", /domain may not import adapters\/sqlite/],
      ['src/domain/x.ts', "import type { TaskRow } from '../shared/types.ts';", /domain may not import shared/],
      ['src/domain/x.ts', "import { readFileSync } from 'node:fs';", /domain may not import the package node:fs/],
      ['src/domain/x.ts', "import { readFileSync } from 'fs';", /package node:fs/],
      ['src/ports/guards/x.ts', "export { dot } from '../../adapters/shared/vector.ts';", /ports may not import adapters\/shared/],
      ['src/engine/x.ts', "const m = await import('../sim/clock.ts');", /engine may not import sim/],
      ['src/engine/x.ts', "let q: import('../adapters/memory/memory-queue.ts').MemoryQueue;", /engine may not import adapters\/memory/],
      ['src/engine/x.ts', "import Database from 'better-sqlite3';", /package better-sqlite3/],
      ['src/adapters/exact/x.ts', "import type { MemoryRowStore } from '../hnsw/hnsw-row-store.ts';", /adapters\/exact may not import adapters\/hnsw/],
      ['src/adapters/shared/x.ts', "import hnswlib from 'hnswlib-node';", /package hnswlib-node/],
      ['src/cli/commands/x.ts', "import { MemoryRowStore } from '../../adapters/hnsw/hnsw-row-store.ts';", /cli may not import adapters\/hnsw/],
      ['src/config/x.ts', "import { Simulation } from '../app/simulation.ts';", /config may not import app/],
      ['src/app/x.ts', "import { SqliteStateStore } from '../adapters/sqlite/sqlite-state-store.ts';", /app may not import adapters\/sqlite/],
      ['renderer/src/x.tsx', "import { ChimeraError } from '../../src/domain/errors.ts';", /renderer may not import domain/],
      ['renderer/src/x.tsx', "import { join } from 'node:path';", /renderer may not import the package node:path/],
      ['src/shared/x.ts', "import { ChimeraError } from '../domain/errors.ts';", /shared may not import domain/],
      ['bench/suites/x.ts', "import { writeTinyModel } from '../../test/support/tiny-model.ts';", /bench may not import test code/],
      ['src/sim/x.ts', "const { x } = require('../engine/engine.ts');", /sim may not import engine/],
      ['src/newfolder/x.ts', "import { a } from '../domain/errors.ts';", /belongs to no layer/],
    ];
    for (const [file, source, rule] of cases) {
      const results = check(file, source);
      expect(results, `${file}: ${source}`).toHaveLength(1);
      expect(results[0] ?? '', `${file}: ${source}`).toMatch(rule);
    }
  });

  it('lets the imports the rules allow through', () => {
    const cases: [file: string, source: string][] = [
      ['src/ports/guards/x.ts', "import { checkVector } from '../../domain/vectors.ts';"],
      ['src/engine/x.ts', "import type { Rng } from '../ports/rng.ts'; import { auditIdFor } from '../domain/seeded-rng.ts'; import { z } from 'zod';"],
      ['src/adapters/hnsw/x.ts', "import { dot } from '../../domain/vectors.ts'; import { TopK } from '../shared/memory-helpers.ts'; import { Mutex } from '../../util/mutex.ts';"],
      ['src/config/x.ts', "import { MemoryRowStore } from '../adapters/hnsw/hnsw-row-store.ts';"],
      ['src/app/x.ts', "import { composePorts } from '../config/compose.ts'; import type { TaskRow } from '../shared/types.ts';"],
      ['src/cli/x.ts', "import { Simulation } from '../app/simulation.ts'; import { loadConfig } from '../config/config.ts';"],
      ['renderer/src/x.tsx', "import { useState } from 'react'; import { createRoot } from 'react-dom/client'; import type { Theme } from '../../src/shared/types.ts';"],
      ['bench/suites/x.ts', "import { launchChromium } from '../support/browser.ts'; import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';"],
    ];
    for (const [file, source] of cases) {
      const results = check(file, source);
      expect(results.length, `${file}: ${source}`).toBeGreaterThan(0);
      expect(results, `${file}: ${source}`).toEqual(results.map(() => null));
    }
  });
});
