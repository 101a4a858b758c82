/**
 * The Weaviate wire emulator for tests. Its core lives in bench/support/weaviate-emulator (the
 * benchmark drives it too, and bench may not import test/); this adds what only tests need:
 * failing loudly on any call the emulator did not know.
 */
import { startWeaviateEmulator, type EmulatorOptions, type WeaviateEmulator } from '../../bench/support/weaviate-emulator/index.ts';

export { startWeaviateEmulator, type EmulatorOptions, type WeaviateEmulator };

/** Throws, listing them, if the emulator saw calls it does not serve (so the test that made them fails). */
export function assertNoUnknownCalls(emu: WeaviateEmulator): void {
  if (emu.log.unknown.length === 0) return;
  const list = emu.log.unknown.splice(0).join('\n  ');
  throw new Error(`the Weaviate emulator received calls it does not serve (extend it, or stop making them):\n  ${list}`);
}
