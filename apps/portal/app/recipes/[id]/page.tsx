import { stageTokens } from '@ctxlab/contracts';
import { notFound } from 'next/navigation';
import { fmtInt, KeyValues, Tags } from '../../../src/components/EntityList';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function RecipePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const r = await loadOr404(() => api().recipes.get({ id }));
  if (!r) notFound();
  const s = r.spec;
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
  return (
    <>
      <h1>{r.name} <span className="tag">v{r.version}</span></h1>
      <p className="sub">{r.description} <Tags tags={r.tags} /></p>
      <div className="panel">
        <h2>Stages</h2>
        <table className="data" aria-label="Stage table">
          <thead>
            <tr><th scope="col">stage</th>{s.stages.map((st) => <th key={st.name} scope="col" className="num">{st.name}</th>)}</tr>
          </thead>
          <tbody>
            {rows.map(([label, f]) => (
              <tr key={label}><th scope="row">{label}</th>{s.stages.map((st) => <td key={st.name} className="num">{f(st)}</td>)}</tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <h2>Recipe</h2>
        <KeyValues
          items={[
            ['method', s.method], ['base model', s.baseModel], ['target context', fmtInt(s.targetContext)], ['θ rule', s.thetaRule],
            ['trainer', s.trainer], ['total tokens', fmtInt(s.stages.reduce((t, st) => t + stageTokens(st), 0))],
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
