/**
 * Strict argument parsing for every command (node:util parseArgs underneath), with what
 * parseArgs leaves to the caller:
 * - a negative number after a string option (`--seed -1`) is that option's value, so the
 *   option's own check can say what range it takes (parseArgs calls it "ambiguous");
 * - an option given twice is refused (parseArgs silently keeps the last one);
 * - an empty value, or any argument with a NUL character, is refused;
 * - parseArgs' errors become one line naming the option (some of its messages span lines).
 */
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.ts';

/** A token that is a negative number (`-1`, `-0.5`), not an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

function joinNegativeValues(args: readonly string[], options: Command['options']): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    const next = args[i + 1];
    if (name !== null && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i += 1;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** parseArgs' error as one line. */
function parseError(e: { code: string; message: string }, cmd: Command): UsageError {
  const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? '';
  const option = quoted.replace(/ <value>$/, '');
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option "${option}" (see "chimera ${cmd.name} --help")`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument "${quoted}": this command takes options only`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(e.message)) return new UsageError(`${option} needs a value`);
      if (/does not take an argument/.test(e.message)) return new UsageError(`${option} takes no value`);
      if (/ambiguous/.test(e.message)) return new UsageError(`${option} needs a value (for a value that starts with "-", write ${option}=VALUE)`);
      break;
    default:
      break;
  }
  return new UsageError(e.message.split('\n')[0] ?? e.message);
}

/** Parses a command's arguments or throws a one-line UsageError. */
export function parseCommandArgs(cmd: Command, rest: readonly string[]): { values: Record<string, unknown>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(rest, cmd.options),
      options: cmd.options,
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) throw parseError(err as { code: string; message: string }, cmd);
    throw e;
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name) && !cmd.options[t.name]?.multiple) throw new UsageError(`--${t.name} is given more than once`);
    seen.add(t.name);
    if (t.value !== undefined && t.value.length === 0) throw new UsageError(`--${t.name} needs a value, got an empty one`);
    if (t.value?.includes('\0')) throw new UsageError(`--${t.name} contains a NUL character`);
  }
  for (const p of parsed.positionals) {
    if (p.includes('\0')) throw new UsageError('an argument contains a NUL character');
  }
  return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
}
