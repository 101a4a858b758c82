/**
 * The CLI's command shape. Each command lives in its own file under commands/ and is listed
 * in commands/index.ts. Options are parsed strictly (args.ts): an unknown flag or a bad value
 * is a UsageError, printed as one line with exit code 2, never a stack trace.
 */
import type { ParseArgsConfig } from 'node:util';
import { personaIdProblem, unsafeCharKind } from '../domain/schemas.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface Command {
  /** e.g. 'simulate' or 'memory search'. */
  readonly name: string;
  readonly summary: string;
  /** Usage lines shown by --help. */
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly allowPositionals?: boolean;
  /** Returns the process exit code. */
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CliIo): Promise<number>;
}

/**
 * A message as one safe terminal line: line breaks become spaces, and control and bidi
 * characters (which could hide or reorder text) are shown as \u{…} escapes.
 */
export function oneLine(message: string): string {
  let out = '';
  for (const c of message.replace(/\r?\n/g, ' ')) {
    const code = c.codePointAt(0) ?? 0;
    out += unsafeCharKind(code) ? `\\u{${code.toString(16)}}` : c;
  }
  return out;
}

/** Parses an integer flag or throws a UsageError naming it. */
export function intFlag(values: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${String(v)}"`);
  }
  return n === 0 ? 0 : n; // "-0" is 0
}

/** Parses a probability flag (0..1) or throws a UsageError naming it. */
export function rateFlag(values: Record<string, unknown>, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`--${name} must be a number from 0 to 1, got "${String(v)}"`);
  }
  return n;
}

/** The required --persona ID, checked with the domain's persona id rule. */
export function personaFlag(values: Record<string, unknown>): string {
  const v = values.persona;
  if (typeof v !== 'string' || !v) throw new UsageError('--persona ID is required');
  const problem = personaIdProblem(v);
  if (problem) throw new UsageError(`--persona "${v}": ${problem}`);
  return v;
}
