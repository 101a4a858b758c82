/** The 'campaigns/task' channel behind the task graph's inspector: node i of the DAG, with its contents. */
import { afterEach, describe, expect, it } from 'vitest';
import { openStudio } from './studio-support.ts';

const opened: Awaited<ReturnType<typeof openStudio>>[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.cleanup();
});

describe('campaigns/task', () => {
  it('answers node i of the DAG with its input_data and output_data, and names what is missing', async () => {
    const s = await openStudio();
    opened.push(s);
    const c = (await s.service.call('campaigns/create', { title: 'Inspect me', goal: 'Teach denim repair', persona_id: 'aria', content_pieces: 3 })).campaign!;
    for (let i = 0; i < 300; i++) {
      const counts = (await s.service.call('campaigns/list', {})).campaigns.find((x) => x.id === c.id)!.counts;
      if (counts.COMPLETED > 0) break;
      await s.service.call('sim/step', { count: 1 });
    }
    const dag = await s.service.call('campaigns/dag', { campaign_id: c.id });
    const page = await s.service.call('campaigns/tasks', { campaign_id: c.id, offset: 0, limit: dag.count });
    const done = dag.statuses.indexOf('C');
    expect(done).toBeGreaterThanOrEqual(0);
    for (const i of [0, done, dag.count - 1]) {
      const t = await s.service.call('campaigns/task', { campaign_id: c.id, index: i });
      expect(t).toMatchObject({ index: i, id: page.tasks[i]!.id, skill_name: dag.skills[dag.skill_of[i]!], status: page.tasks[i]!.status });
      expect(t.input_data).toBeTypeOf('object');
    }
    expect((await s.service.call('campaigns/task', { campaign_id: c.id, index: done })).output_data).not.toBeNull();
    await expect(s.service.call('campaigns/task', { campaign_id: c.id, index: dag.count })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(`#${dag.count}`) });
    await expect(s.service.call('campaigns/task', { campaign_id: 'nope', index: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
