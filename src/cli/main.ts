/**
 * `chimera` — the command-line entry. Usage errors and domain errors end with one line on
 * stderr and exit code 2 (1 for failures of the work itself); never a stack trace unless
 * CHIMERA_DEBUG=1.
 */
import { parseArgs } from 'node:util';
import { ChimeraError } from '../domain/errors.ts';
import { COMMANDS } from './commands/index.ts';
import { UsageError, type CliIo, type Command } from './command.ts';

function findCommand(argv: string[]): { cmd: Command; rest: string[] } | null {
  // longest match first: "memory search" before "memory"
  const sorted = [...COMMANDS].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const cmd of sorted) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { cmd, rest: argv.slice(words.length) };
  }
  return null;
}

function help(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'chimera — Chimera Studio command line',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Run "chimera COMMAND --help" for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(help() + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(`chimera: unknown command "${argv.join(' ')}"\n\n${help()}\n`);
    return 2;
  }
  const { cmd, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${cmd.summary}\n\nUsage:\n${cmd.usage}\n`);
    return 0;
  }
  try {
    const parsed = parseArgs({
      args: rest,
      options: cmd.options,
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
    });
    return await cmd.run({ values: parsed.values as Record<string, unknown>, positionals: parsed.positionals }, io);
  } catch (e) {
    if (io.env.CHIMERA_DEBUG === '1' && e instanceof Error) io.stderr.write(`${e.stack}\n`);
    const err = e as { code?: string; message?: string };
    if (e instanceof UsageError || (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`chimera ${cmd.name}: ${err.message}\nUsage:\n${cmd.usage}\n`);
      return 2;
    }
    if (e instanceof ChimeraError) {
      io.stderr.write(`chimera ${cmd.name}: ${e.message}\n`);
      return 2;
    }
    io.stderr.write(`chimera ${cmd.name}: ${err.message ?? String(e)}\n`);
    return 1;
  }
}
