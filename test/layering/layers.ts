/**
 * The layer rules, as data, and the checker that applies them to every import in the source
 * tree (static, type-only, re-exports, `import('x')` calls and types, `require('x')`).
 *
 *   domain ← ports ← engine ← app ← cli / server / electron
 *
 * Each layer lists the layers it may import (its own files always); everything else is a
 * wrong-way import. Adapters are one layer per technology folder: they may use ports, domain,
 * src/util and src/adapters/shared, never another technology's folder. src/config is the
 * composition root (the one place that names adapters). The renderer sees only src/shared.
 * test/ is not checked: tests may reach into any layer.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Where the checked source lives (relative to the root); test/ is deliberately absent. */
export const SOURCE_DIRS = ['src', 'bench', 'server', 'electron', 'renderer', 'bin'] as const;
const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.mjs', '.cjs', '.js'] as const;
const SKIP_DIRS = new Set(['node_modules', 'results', 'dist', 'dist-renderer', 'dist-electron']);

/** Node built-ins allowed where there is no I/O: hashing only. */
const PURE_BUILTINS = ['node:crypto'] as const;

export interface Layer {
  readonly name: string;
  /** Folders (relative to the root) whose files are this layer; the longest match wins. */
  readonly dirs: readonly string[];
  /** Layers this one may import, besides itself ('adapters/*' = every technology folder). */
  readonly may: readonly string[];
  /** npm packages and node: built-ins it may import; absent = any. */
  readonly packages?: readonly string[];
  /** Why, in one line (printed with a violation). */
  readonly why: string;
}

// the layers that make up "the core" below the composition root
const CORE = ['ports', 'domain', 'util'] as const;

export const LAYERS: readonly Layer[] = [
  { name: 'util', dirs: ['src/util'], may: [], why: 'src/util holds generic helpers and imports nothing of ours' },
  { name: 'domain', dirs: ['src/domain'], may: ['util'], packages: ['zod', ...PURE_BUILTINS], why: 'the domain is the innermost ring: no I/O, no ports, no wire types' },
  { name: 'ports', dirs: ['src/ports'], may: ['domain', 'util'], packages: ['zod', ...PURE_BUILTINS], why: 'ports (and their guards) see only the domain, never an adapter' },
  { name: 'engine', dirs: ['src/engine'], may: [...CORE], packages: ['zod', ...PURE_BUILTINS], why: 'the engine talks to ports only: no adapter, no clock or RNG implementation, no UI types' },
  {
    name: 'adapters/shared',
    dirs: ['src/adapters/shared'],
    may: [...CORE],
    packages: ['better-sqlite3', 'node:crypto', 'node:fs', 'node:os', 'node:path'],
    why: 'helpers shared by adapters use no adapter folder; the one package is better-sqlite3, for opening a SQLite file read-only without touching it (the SQLite adapters and the HNSW rows file both keep SQLite files)',
  },
  // every other folder under src/adapters is its own layer "adapters/<technology>" (see layerOf)
  { name: 'sim', dirs: ['src/sim'], may: [...CORE], why: 'src/sim implements the Clock port (virtual and system clocks), like an adapter' },
  {
    name: 'config',
    dirs: ['src/config'],
    may: ['adapters/*', 'adapters/shared', 'sim', ...CORE],
    why: 'the composition root builds ports from adapters; it knows nothing of the engine, app or UI',
  },
  { name: 'shared', dirs: ['src/shared'], may: [], packages: ['zod'], why: 'src/shared is the UI wire contract: it imports nothing of the core, so the renderer can use it' },
  {
    name: 'app',
    dirs: ['src/app', 'src/scenarios'],
    may: ['config', 'engine', 'sim', 'shared', ...CORE],
    why: 'the app runs the engine over composed ports and speaks the wire contract; adapters only through src/config',
  },
  { name: 'cli', dirs: ['src/cli', 'bin'], may: ['app', 'config', 'engine', 'sim', ...CORE], why: 'the CLI uses the app and the composition root, never an adapter directly' },
  { name: 'server', dirs: ['server'], may: ['app', 'config', 'engine', 'sim', 'shared', ...CORE], why: 'browser mode uses the app and the composition root, never an adapter directly' },
  { name: 'electron', dirs: ['electron'], may: ['app', 'config', 'engine', 'sim', 'shared', ...CORE], why: 'the desktop shell uses the app and the composition root, never an adapter directly' },
  { name: 'renderer', dirs: ['renderer'], may: ['shared'], packages: ['react', 'react-dom', 'zod', 'uplot'], why: 'the renderer runs in a browser: src/shared and browser packages only' },
  {
    name: 'bench',
    dirs: ['bench'],
    may: ['util', 'domain', 'ports', 'engine', 'adapters/shared', 'adapters/*', 'sim', 'config', 'shared', 'app', 'server'],
    why: 'benchmarks may measure any layer but never import test code (shared fixtures live in bench/support)',
  },
];

/**
 * Imports allowed against the rules for now. Each names one file, the one module it may
 * import and why; an entry that no longer matches an import fails the check, so it is removed
 * as soon as it is not needed.
 */
export interface Exception {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

export const EXCEPTIONS: readonly Exception[] = [
];

export interface ImportRef {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
}

export interface Violation extends ImportRef {
  readonly rule: string;
}

const toPosix = (p: string): string => p.split('\\').join('/');
const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** The layer a root-relative path belongs to, or null when it is in none. */
export function layerOf(path: string): string | null {
  const m = /^src\/adapters\/([^/]+)\//.exec(path);
  if (m && m[1] !== 'shared') return `adapters/${m[1]}`;
  let best: { name: string; len: number } | null = null;
  for (const layer of LAYERS) {
    for (const dir of layer.dirs) if (within(path, dir) && (!best || dir.length > best.len)) best = { name: layer.name, len: dir.length };
  }
  return best?.name ?? null;
}

function ruleOf(name: string): Layer {
  if (name.startsWith('adapters/') && name !== 'adapters/shared') {
    return {
      name,
      dirs: [`src/${name}`],
      may: ['adapters/shared', ...CORE],
      why: 'an adapter depends on ports, domain, src/util and src/adapters/shared only, never on another technology folder',
    };
  }
  const layer = LAYERS.find((l) => l.name === name);
  if (!layer) throw new Error(`no layer named ${name}`);
  return layer;
}

function mayImport(from: string, to: string): boolean {
  if (from === to) return true;
  const may = ruleOf(from).may;
  return may.includes(to) || (may.includes('adapters/*') && to.startsWith('adapters/') && to !== 'adapters/shared');
}

/** `node:fs` for `fs` or `node:fs`, the package name (`@scope/name`, `name`) otherwise. */
export function packageOf(specifier: string): string {
  if (specifier.startsWith('node:')) return `node:${specifier.slice(5).split('/')[0]}`;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
  return builtinModules.includes(name) ? `node:${name}` : name;
}

/** Every module specifier in one file, with its line (1-based). */
export function importsOf(file: string, text: string): ImportRef[] {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : /\.[mc]?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const out: ImportRef[] = [];
  const add = (node: ts.Node, lit: ts.Node | undefined): void => {
    if (!lit || !ts.isStringLiteralLike(lit)) return;
    out.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, specifier: lit.text });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isImport || isRequire) add(node, node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The broken rule for one import, or null when it is allowed. `file` is root-relative. */
export function checkImport(ref: ImportRef): string | null {
  const from = layerOf(ref.file);
  if (!from) return `${ref.file} belongs to no layer: add its folder to LAYERS in test/layering/layers.ts`;
  const rule = ruleOf(from);
  if (!ref.specifier.startsWith('.')) {
    const pkg = packageOf(ref.specifier);
    if (!rule.packages || rule.packages.includes(pkg)) return null;
    return `${from} may not import the package ${pkg} (allowed: ${rule.packages.join(', ') || 'none'}): ${rule.why}`;
  }
  const target = toPosix(relative(ROOT, resolve(ROOT, dirname(ref.file), ref.specifier)));
  const to = layerOf(target);
  if (to && mayImport(from, to)) return null;
  const what = to ?? (within(target, 'test') ? 'test code' : `${target} (in no layer)`);
  return `${from} may not import ${what}: ${rule.why}`;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* sourceFiles(path);
    } else if (SOURCE_EXTENSIONS.some((ext) => entry.name.endsWith(ext)) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

export interface LayeringReport {
  readonly files: number;
  readonly imports: number;
  readonly violations: readonly Violation[];
  /** Exceptions that matched an import (and so were allowed). */
  readonly usedExceptions: readonly Exception[];
  /** Exceptions that matched nothing (stale: remove them). */
  readonly staleExceptions: readonly Exception[];
}

/** Checks every import of every source file under SOURCE_DIRS. */
export function checkTree(exceptions: readonly Exception[] = EXCEPTIONS): LayeringReport {
  const violations: Violation[] = [];
  const used = new Set<Exception>();
  let files = 0;
  let imports = 0;
  for (const dir of SOURCE_DIRS) {
    for (const file of sourceFiles(dir)) {
      files += 1;
      if (!layerOf(file)) {
        violations.push({ file, line: 1, specifier: '', rule: `${file} belongs to no layer: add its folder to LAYERS in test/layering/layers.ts` });
        continue;
      }
      for (const ref of importsOf(file, readFileSync(join(ROOT, file), 'utf8'))) {
        imports += 1;
        const rule = checkImport(ref);
        if (!rule) continue;
        const target = ref.specifier.startsWith('.') ? toPosix(relative(ROOT, resolve(ROOT, dirname(ref.file), ref.specifier))) : ref.specifier;
        const exception = exceptions.find((e) => e.from === ref.file && e.to === target);
        if (exception) used.add(exception);
        else violations.push({ ...ref, rule });
      }
    }
  }
  return { files, imports, violations, usedExceptions: [...used], staleExceptions: exceptions.filter((e) => !used.has(e)) };
}

/** One line per violation: `file:line  'specifier'  rule`. */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}  '${v.specifier}'  ${v.rule}`;
}
