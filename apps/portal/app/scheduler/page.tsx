import type { Metadata } from 'next';
import { PageHead } from '../../src/components/EntityList';
import { Panel } from '../../src/components/Panel';
import { PriceTable } from '../../src/components/SchedulerAdmin';
import { SchedulerLive } from '../../src/components/SchedulerLive';
import { api, currentActor } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'GPU queue' };

export default async function SchedulerPage() {
  const me = await currentActor();
  const a = await api();
  const [queue, prices, gpus] = await Promise.all([a.scheduler.queue(), a.scheduler.prices(), a.planner.gpus()]);
  const gpuTypes = gpus.map((g) => ({ id: g.id, name: g.name }));
  return (
    <>
      <PageHead
        title="GPU queue"
        sub="Who waits for which GPUs and why, what holds them, and each team's quotas against what it has used. Jobs start by priority, then fair share between teams (by weight), within quotas. Updates live."
      />
      <SchedulerLive initial={queue} role={me.role} renderedAt={Date.now()} gpuTypes={gpuTypes} />
      <Panel id="prices-h" title="Prices" testId="queue-prices">
        <PriceTable initial={prices} admin={me.role === 'admin'} gpuTypes={gpuTypes} />
      </Panel>
    </>
  );
}
