'use client';

import { fmtCompact, fmtDate, fmtDuration, fmtSci, KeyValues } from '@ctxlab/ui';
import Link from 'next/link';
import { browserApi } from '../lib/client';
import { fmtGpuHours, fmtPercent, fmtRatio, gpuTime, readEstimate, versusEstimate } from '../lib/costs';
import { useNow, usePoll } from '../lib/hooks';
import type { Out } from '../lib/types';
import { Panel } from './Panel';

type Job = Out['portal']['job'];
export type QueueEntry = Out['scheduler']['queue']['waiting'][number];

/** A planned wall time; a lab job's can be a fraction of a second, which would round to "0 s". */
const wallText = (hours: number) => (hours * 3600 < 1 ? 'under 1 s' : fmtDuration(hours * 3600));

/** Whether a job went through the GPU scheduler (GPU work and the lab's cpu jobs; evals do not). */
export const isScheduled = (j: Pick<Job, 'gpuType'>) => j.gpuType !== null;

/**
 * A GPU job's place in the scheduler and its device time: team, priority, GPUs × type; while it
 * waits, its place, the reason and the estimated start (read every two seconds); once admitted,
 * when; the GPU time it is charged for; and for training, the planner's estimate beside the actual.
 */
export function JobScheduling({ job: j, team, initialWait, renderedAt }: { job: Job; team: string | null; initialWait: QueueEntry | null; renderedAt: number }) {
  const waiting = j.status === 'queued' && !j.admittedAt;
  const { data: wait } = usePoll(async () => (await browserApi().scheduler.queue.query()).waiting.find((w) => w.id === j.id) ?? null, 2000, waiting, initialWait);
  const now = useNow(renderedAt);
  const time = gpuTime(j, new Date(now));
  const estimate = readEstimate(j.estimate);
  const finished = j.status === 'succeeded' && time !== null && !time.running;
  const vs = estimate && finished ? versusEstimate(time.gpuHours, estimate) : null;
  const w = waiting ? wait : null;
  return (
    <Panel id="sched-h" title="Scheduling and GPU time" testId="job-scheduling" head={<Link href="/scheduler" className="progress-line">GPU queue →</Link>}>
      <KeyValues
        items={[
          ['team', team ?? (j.teamId ? <span key="t" className="mono">{j.teamId}</span> : 'no team')],
          ['priority', j.priority],
          ['devices', j.gpus > 0 ? `${j.gpus} × ${j.gpuType ?? 'any GPU'}` : 'no GPU: charged as one cpu device'],
          ['admitted', j.admittedAt ? `${fmtDate(j.admittedAt)} UTC${j.quotaOverride ? ' (past its quota, by an admin)' : ''}` : waiting ? 'not yet: waiting' : '—'],
          ...(w
            ? ([
                ['place in line', w.position === null ? 'stands aside from the line' : `${w.position} in the ${w.gpuType ?? ''} queue`],
                ['why it waits', <span key="r" data-testid="job-wait-reason">{w.reason}</span>],
                ['estimated start', w.estimatedStartAt ? `${fmtDate(w.estimatedStartAt)} UTC (in about ${fmtDuration((new Date(w.estimatedStartAt).getTime() - now) / 1000)})` : 'not known'],
              ] as const)
            : waiting ? ([['why it waits', 'not yet seen by a scheduling pass']] as const) : []),
          ['GPU time', time ? `${fmtDate(j.gpuStartedAt)} → ${time.running ? 'now' : fmtDate(j.gpuEndedAt)} UTC · ${fmtDuration(time.hours * 3600)}${time.running ? ' so far' : ''}` : 'not started on a device'],
          ['GPU-hours', time ? <span key="h" data-testid="job-gpu-hours">{fmtGpuHours(time.gpuHours)} ({time.devices} × {time.device})</span> : '—'],
          ...(estimate
            ? ([
                ['planner estimate', <span key="e" data-testid="job-estimate">{fmtGpuHours(estimate.gpuHours)} GPU-h{estimate.wallHours !== null ? ` · ${wallText(estimate.wallHours)} wall` : ''}{estimate.mfu !== null ? ` at ${fmtPercent(estimate.mfu)} MFU` : ''}</span>],
                ['estimate rests on', `${estimate.tokens === null ? '?' : fmtCompact(estimate.tokens)} tokens, peak ${estimate.peakFlops === null ? '?' : fmtSci(estimate.peakFlops, 2)} FLOP/s per device (${estimate.peakFrom ?? 'unknown source'})`],
                ['actual ÷ estimate', vs ? <span key="v" data-testid="job-estimate-ratio">{fmtRatio(vs.ratio)} · implied MFU {fmtPercent(vs.impliedMfu)}</span> : 'once it has succeeded'],
              ] as const)
            : j.kind === 'train' ? ([['planner estimate', 'none: the planner knows neither the device nor a price with its peak FLOP/s']] as const) : []),
        ]}
      />
    </Panel>
  );
}
