import { stageTokens } from '@ctxlab/contracts';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { PageHead } from '../../../src/components/EntityList';
import { Panel } from '../../../src/components/Panel';
import { RecipeRunsTable } from '../../../src/components/RecipeRunBits';
import { RecipeRunForm } from '../../../src/components/RecipeRunForm';
import { contextLabel, fmtCompact, fmtInt, KeyValues, Tags } from '@ctxlab/ui';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function RecipePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const r = await loadOr404(async () => (await api()).recipes.get({ id }));
  if (!r) notFound();
  const a = await api();
  const [models, runs] = await Promise.all([
    a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.recipes.runs({ recipeName: r.name, limit: 20 }),
  ]);
  const s = r.spec;
  const plan = r.computed.plan;
  const stagePlan = (i: number) => plan?.stages[i];
  const rows: [string, (st: (typeof s.stages)[number]) => string | number][] = [
    ['initialised from', (st) => st.initFrom ?? 'previous stage'],
    ['sequence length', (st) => (st.seqLengthLog2 ? `2^${st.seqLengthLog2} = ${fmtInt(st.seqLength)}` : fmtInt(st.seqLength))],
    ['RoPE θ', (st) => fmtInt(st.ropeTheta)],
    ['batch size', (st) => st.batchSize],
    ['gradient accumulation', (st) => st.gradientAccumulation],
    ['steps', (st) => fmtInt(st.steps)],
    ['learning rate', (st) => st.learningRate],
    ['total tokens', (st) => fmtInt(stageTokens(st))],
    ['GPUs', (st) => `${st.gpus} × ${st.gpuType}`],
    ['parallel mode', (st) => st.parallelMode],
    ['minutes (wall)', (st) => (st.wallMinutes ? fmtInt(st.wallMinutes) : '—')],
  ];
  const computedRows: [string, (i: number) => string][] = [
    ['FLOPs per token', (i) => stagePlan(i)?.flopsPerToken.toExponential(3) ?? '—'],
    [`GPU-hours at MFU ${r.computed.mfu}`, (i) => fmtInt(Math.round(stagePlan(i)?.gpuHours ?? NaN))],
    [`wall hours at MFU ${r.computed.mfu}`, (i) => stagePlan(i)?.wallHours?.toFixed(1) ?? '—'],
    ['published: tokens/s per GPU', (i) => stagePlan(i)?.published?.tokensPerSecondPerGpu.toFixed(1) ?? '—'],
    ['published: implied MFU', (i) => { const m = stagePlan(i)?.published?.impliedMfu; return m === null || m === undefined ? '—' : `${(m * 100).toFixed(1)}%`; }],
    ['context its θ supports', (i) => fmtInt(stagePlan(i)?.supportedContext)],
  ];
  const totalTokens = s.stages.reduce((t, st) => t + stageTokens(st), 0);
  const lastStage = s.stages[s.stages.length - 1];
  const plannerQuery = new URLSearchParams({
    model: s.baseModel,
    target: String(s.targetContext),
    rule: s.thetaRule === 'manual' ? 'critical-dim' : s.thetaRule,
    method: s.method,
    ...(lastStage ? { gpu: lastStage.gpuType, gpus: String(lastStage.gpus), batch: String(lastStage.batchSize), steps: String(lastStage.steps), accum: String(lastStage.gradientAccumulation) } : {}),
  }).toString();
  return (
    <>
      <PageHead
        crumbs={[['/recipes', 'Recipes']]}
        title={<>{r.name} <span className="tag">v{r.version}</span></>}
        sub={<>{r.description} <Tags tags={r.tags} /></>}
        actions={<Link className="btn secondary" href={`/planner?${plannerQuery}`}>Open in the planner</Link>}
      />
      <div className="stats">
        <div className="stat"><div className="n">{contextLabel(s.targetContext)}</div><div className="l">target context ({fmtInt(s.targetContext)})</div></div>
        <div className="stat"><div className="n">{s.stages.length}</div><div className="l">{s.stages.length === 1 ? 'stage' : 'stages'} · {s.method}</div></div>
        <div className="stat"><div className="n">{fmtCompact(totalTokens)}</div><div className="l">training tokens ({fmtInt(totalTokens)})</div></div>
        <div className="stat"><div className="n">{plan?.totals.gpuHours ? fmtInt(Math.round(plan.totals.gpuHours)) : '—'}</div><div className="l">GPU-hours at MFU {r.computed.mfu}</div></div>
      </div>
      <Panel id="recipe-runs-h" title="Runs" testId="recipe-runs" head={<span className="progress-line">newest first, of every version{runs.length === 20 ? ' (the 20 newest)' : ''}</span>}>
        <RecipeRunForm
          recipeId={r.id}
          recipeName={r.name}
          version={r.version}
          trainer={s.trainer}
          stages={s.stages.length}
          models={models.items.map((m) => ({ id: m.id, name: m.name }))}
          defaultModelId={models.items.find((m) => m.name === s.baseModel)?.id}
        />
        <RecipeRunsTable runs={runs} caption={`Runs of ${r.name}`} />
      </Panel>
      <div className="panel">
        <h2>Stages</h2>
        <div className="table-scroll">
        <table className="data stages" aria-label="Stage table">
          <thead>
            <tr><th scope="col">stage</th>{s.stages.map((st) => <th key={st.name} scope="col" className="num">{st.name}</th>)}</tr>
          </thead>
          <tbody>
            {rows.map(([label, f]) => (
              <tr key={label}><th scope="row">{label}</th>{s.stages.map((st) => <td key={st.name} className="num">{f(st)}</td>)}</tr>
            ))}
            {plan && computedRows.map(([label, f]) => (
              <tr key={label} className="computed"><th scope="row">{label}</th>{s.stages.map((st, i) => <td key={st.name} className="num">{f(i)}</td>)}</tr>
            ))}
          </tbody>
        </table>
        </div>
        {plan && <p className="panel-note">Shaded rows are computed by the planner (FLOPs per token 6N + 12·layers·d_model·L; GPU-hours at the stated MFU on each stage&apos;s GPU).</p>}
      </div>
      {!plan && <p className="sub">No computed plan: {r.computed.reason}.</p>}
      {plan && (plan.warnings.length > 0 || plan.errors.length > 0) && (
        <div className="panel" role="note">
          <h2>Planner findings</h2>
          <ul>
            {plan.errors.map((e) => <li key={e.message} className="status-bad">{e.message}</li>)}
            {plan.warnings.map((w) => <li key={w.message}>{w.message}</li>)}
          </ul>
        </div>
      )}
      <div className="panel">
        <h2>Recipe</h2>
        <KeyValues
          items={[
            ['method', s.method], ['base model', s.baseModel], ['target context', fmtInt(s.targetContext)], ['θ rule', s.thetaRule],
            ['trainer', s.trainer], ['total tokens', fmtInt(totalTokens)],
            ['total GPU-hours', plan?.totals.gpuHours ? `${fmtInt(Math.round(plan.totals.gpuHours))} at MFU ${r.computed.mfu}` : '—'],
            ['LoRA', s.lora ? `rank ${s.lora.rank}, alpha ${s.lora.alpha}, ${s.lora.targetModules.join('/')}${s.lora.extraTrainedParameters.length ? ` + ${s.lora.extraTrainedParameters.join(', ')}` : ''}, ${s.lora.quantization}` : '—'],
            ['data', s.dataMix.length ? s.dataMix.map((d) => `${d.name}${d.samples ? ` (${fmtInt(d.samples)})` : ''}`).join(' · ') : '—'],
            ['hardware', s.hardware ? `${s.hardware.gpus} × ${s.hardware.gpuType}${s.hardware.note ? ` — ${s.hardware.note}` : ''}` : '—'],
            ['notes', s.notes],
          ]}
        />
      </div>
    </>
  );
}
