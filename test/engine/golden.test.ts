/**
 * Pinned event-log hashes of the shipped scenarios. Performance work must not change what a
 * simulation does; these fail the moment it does. If a change of behaviour is intended (a new
 * event field, another scoring rule), say so in the commit and replace the hashes below with
 * the ones the failure prints.
 */
import { describe, expect, it } from 'vitest';
import { openSim } from '../support/sim.ts';

const GOLDEN: Record<string, Record<number, string>> = {
  'launch-day': {
    1: '90d2aca2dee43bb06f675550c90e23116278ab98492ed09d84b0d8460ad9360e',
    7: '79311fd80c5fda072254c935439191b6b097b670b9d07248c130bab9b515cb17',
  },
  'review-queue': {
    1: '7354507d7a478185bf4bbbee5a88a886796a729e3ecfb2e3a914271c842083a5',
    7: 'a906ddbdbf9803ada34899be284638f5e189005f9266a4073e05fb68e0076fa3',
  },
  storm: {
    1: '73a5e6f0ddbf147ebc94c9b89db4b51cdd515c30ac4c9bf9c23cc14781d78661',
    7: 'c8da74d9594af3e73865a2ed305b01f1c063cf006f03d219dc40f5a880c705d4',
  },
};

describe('the shipped scenarios do what they did', () => {
  for (const [scenario, seeds] of Object.entries(GOLDEN)) {
    for (const [seed, hash] of Object.entries(seeds)) {
      it(`${scenario}, seed ${seed}`, async () => {
        const sim = await openSim(scenario, { seed: Number(seed) });
        await sim.run();
        const got = sim.summary().eventLogSha256;
        await sim.close();
        expect(got, `event log of ${scenario} seed ${seed} changed`).toBe(hash);
      });
    }
  }
});
