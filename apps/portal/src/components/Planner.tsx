'use client';

import { optimizerPrecisionSchema, type OptimizerPrecision } from '@ctxlab/contracts';
import { contextLabel, fmtBytes, fmtInt, fmtNum, fmtSci } from '@ctxlab/ui';
import { useEffect, useId, useRef, useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { useDebounced } from '../lib/hooks';
import type { Out } from '../lib/types';
import { ErrorCallout } from './FormErrors';

export interface PlannerInitial {
  modelId: string;
  targetLength: number;
  rule: string;
  method: string;
  gpuId: string;
  trainGpus: number;
  batchSize: number;
  gradientAccumulation: number;
  steps: number;
  optimizerPrecision: OptimizerPrecision;
}

interface ModelOption { id: string; name: string; maxPositionEmbeddings: number; ropeTheta: number; numLayers: number }
interface GpuOption { id: string; name: string; memoryGiB: number; peakBf16Flops: number }

const RULES = [
  ['critical-dim', 'critical dimension (Liu et al.)'],
  ['critical-dim-even', 'critical dimension, d_extra rounded up to even'],
  ['ntk', 'NTK-aware (fixed)'],
  ['dynamic-ntk', 'dynamic NTK (α)'],
  ['yarn', 'YaRN (rescales frequencies)'],
  ['llama3', 'Llama-3.1 scaling'],
] as const;
type Rule = (typeof RULES)[number][0];
const METHODS = ['full', 'lora', 'qlora'] as const;
type Method = (typeof METHODS)[number];
const PRESETS = [65_536, 131_072, 262_144, 524_288, 1_048_576];
const OPTIMIZER_LABELS: Record<OptimizerPrecision, string> = {
  'fp32-master': 'fp32 master weights + fp32 Adam (16 B/param)',
  bf16: 'bf16 weights + bf16 AdamW (8 B/param)',
};
/** The API's default MFU (libs/api DEFAULT_MFU), shown until the user types another. */
const DEFAULT_MFU = '0.4';
const LORA_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

interface Results {
  theta: Out['planner']['theta'];
  memory: Out['planner']['memory'];
  serving: Out['planner']['serving'] | { error: string };
  recipe: Out['planner']['recipe'] | { error: string };
  adapter: Out['planner']['adapter'] | null;
}

/** A number input that reports only valid positive values and shows why it rejects the rest. */
function NumberField(p: { id: string; label: string; value: string; onChange: (v: string) => void; hint?: string; min?: number; max?: number; step?: number; integer?: boolean }) {
  const n = Number(p.value);
  const bad = p.value.trim() === '' || !Number.isFinite(n) || (p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max) || (p.integer && !Number.isInteger(n));
  const errId = `${p.id}-err`;
  return (
    <div className="field">
      <label htmlFor={p.id}>{p.label}</label>
      <input id={p.id} type="number" inputMode="numeric" value={p.value} min={p.min} max={p.max} step={p.step ?? 1} onChange={(e) => p.onChange(e.target.value)} aria-invalid={bad} aria-describedby={bad ? errId : undefined} />
      {bad ? <span id={errId} className="field-error">{`enter ${p.integer ? 'a whole number' : 'a number'}${p.min !== undefined ? ` ≥ ${p.min}` : ''}${p.max !== undefined ? ` and ≤ ${p.max}` : ''}`}</span> : p.hint ? <span className="hint">{p.hint}</span> : null}
    </div>
  );
}

const positiveInt = (s: string) => (Number.isInteger(Number(s)) && Number(s) > 0 ? Number(s) : null);

export function Planner({ models, gpus, initial }: { models: ModelOption[]; gpus: GpuOption[]; initial: PlannerInitial }) {
  const uid = useId();
  const [modelId, setModelId] = useState(initial.modelId);
  const [target, setTarget] = useState(String(initial.targetLength));
  const [rule, setRule] = useState<Rule>((RULES.find(([r]) => r === initial.rule)?.[0] ?? 'critical-dim') as Rule);
  const [alpha, setAlpha] = useState('4');
  const [method, setMethod] = useState<Method>((METHODS as readonly string[]).includes(initial.method) ? (initial.method as Method) : 'full');
  const [rank, setRank] = useState('32');
  const [gpuId, setGpuId] = useState(initial.gpuId);
  const [tp, setTp] = useState('8');
  const [util, setUtil] = useState('0.9');
  const [kvDtype, setKvDtype] = useState<'auto' | 'fp8'>('auto');
  const [trainGpus, setTrainGpus] = useState(String(initial.trainGpus));
  const [batch, setBatch] = useState(String(initial.batchSize));
  const [accum, setAccum] = useState(String(initial.gradientAccumulation));
  const [steps, setSteps] = useState(String(initial.steps));
  const [mfu, setMfu] = useState(DEFAULT_MFU);
  const [trained, setTrained] = useState('');
  const [optimizer, setOptimizer] = useState<OptimizerPrecision>(initial.optimizerPrecision);

  const inputs = { modelId, target, rule, alpha, method, rank, gpuId, tp, util, kvDtype, trainGpus, batch, accum, steps, mfu, trained, optimizer };
  const settled = useDebounced(inputs, 250);
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  const model = models.find((m) => m.id === settled.modelId);
  const gpu = gpus.find((g) => g.id === settled.gpuId);

  useEffect(() => {
    const s = settled;
    const targetLength = positiveInt(s.target);
    const tensorParallelSize = positiveInt(s.tp);
    const ring = positiveInt(s.trainGpus);
    const b = positiveInt(s.batch);
    const ga = positiveInt(s.accum);
    const st = positiveInt(s.steps);
    const r = positiveInt(s.rank);
    const m = models.find((x) => x.id === s.modelId);
    const g = gpus.find((x) => x.id === s.gpuId);
    const util = Number(s.util);
    const mfuN = Number(s.mfu);
    const alphaN = Number(s.alpha);
    const trainedN = s.trained.trim() === '' ? null : positiveInt(s.trained);
    if (!m || !g || !targetLength || !tensorParallelSize || !ring || !b || !ga || !st || !(util > 0 && util <= 1) || !(mfuN > 0 && mfuN <= 1) || (s.method !== 'full' && !r) || (s.rule === 'dynamic-ntk' && !(alphaN > 0)) || (s.trained.trim() !== '' && !trainedN)) {
      setError('Some inputs are not valid yet: fix the fields marked in red.');
      return;
    }
    const my = ++seq.current;
    setBusy(true);
    const api = browserApi();
    const ref = { modelId: m.id };
    (async () => {
      const theta = await api.planner.theta.query({ model: ref, targetLength, rule: s.rule as Rule, ...(s.rule === 'dynamic-ntk' ? { alpha: alphaN } : {}) });
      const lora = s.method === 'full' ? undefined : { rank: r!, alpha: r!, targetModules: LORA_MODULES, quantization: s.method === 'qlora' ? ('nf4' as const) : ('none' as const) };
      const [memory, serving, recipe, adapter] = await Promise.all([
        api.planner.memory.query({ model: ref, tensorParallelSize, seqLength: targetLength, ringGpus: ring, dtype: 'bf16', optimizerPrecision: s.optimizer }),
        api.planner.serving
          .query({ model: ref, gpuMemoryGiB: g.memoryGiB, tensorParallelSize, maxModelLen: targetLength, gpuMemoryUtilization: util, kvCacheDtype: s.kvDtype, ropeTheta: theta.theta })
          .catch((e: unknown) => ({ error: errorMessage(e) })),
        api.planner.recipe
          .query({
            model: ref,
            mfu: mfuN,
            gpu: g.id,
            ...(trainedN ? { trainedTokens: [trainedN] } : {}),
            spec: {
              method: s.method as Method,
              baseModel: m.name,
              targetContext: targetLength,
              thetaRule: s.rule as Rule,
              trainer: s.method === 'qlora' ? 'qlora' : 'easycontext',
              stages: [{ name: contextLabel(targetLength), seqLength: targetLength, ropeTheta: theta.theta, batchSize: b, gradientAccumulation: ga, steps: st, learningRate: 2e-5, gpus: ring, gpuType: g.name, parallelMode: 'zigzag_ring_attn' }],
              ...(lora ? { lora } : {}),
            },
          })
          .catch((e: unknown) => ({ error: errorMessage(e) })),
        lora ? api.planner.adapter.query({ model: ref, rank: lora.rank, targetModules: lora.targetModules }) : Promise.resolve(null),
      ]);
      return { theta, memory, serving, recipe, adapter };
    })()
      .then((res) => {
        if (my !== seq.current) return;
        setResults(res);
        setError(null);
      })
      .catch((e: unknown) => {
        if (my === seq.current) setError(errorMessage(e));
      })
      .finally(() => {
        if (my === seq.current) setBusy(false);
      });
  }, [settled, models, gpus]);

  const pending = busy || JSON.stringify(inputs) !== JSON.stringify(settled);
  const trainedBad = trained.trim() !== '' && !positiveInt(trained);
  const t = Number(target);
  const serving = results && !('error' in results.serving) ? results.serving : null;
  const recipe = results && !('error' in results.recipe) ? results.recipe : null;
  const stage = recipe?.plan?.stages[0];
  const training = results?.memory.training;
  const gpuBytes = gpu ? gpu.memoryGiB * 2 ** 30 : 0;

  return (
    <div className="planner">
      <form className="panel planner-inputs" aria-label="Planner inputs" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={`${uid}-model`}>Model</label>
          <select id={`${uid}-model`} value={modelId} onChange={(e) => setModelId(e.target.value)}>
            {models.map((m) => <option key={m.id} value={m.id}>{m.name} ({contextLabel(m.maxPositionEmbeddings)})</option>)}
          </select>
        </div>
        <NumberField id={`${uid}-target`} label="Target context length (tokens)" value={target} onChange={setTarget} min={1} integer hint={Number.isFinite(t) && t > 0 ? `${contextLabel(t)} · ${fmtInt(t)} tokens` : undefined} />
        <div className="btn-group" role="group" aria-label="Common lengths" style={{ marginTop: -6, marginBottom: 14 }}>
          {PRESETS.map((p) => <button key={p} type="button" className="btn secondary small" aria-pressed={t === p} onClick={() => setTarget(String(p))}>{contextLabel(p)}</button>)}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-rule`}>RoPE θ rule</label>
          <select id={`${uid}-rule`} value={rule} onChange={(e) => setRule(e.target.value as Rule)}>
            {RULES.map(([r, label]) => <option key={r} value={r}>{label}</option>)}
          </select>
        </div>
        {rule === 'dynamic-ntk' && <NumberField id={`${uid}-alpha`} label="Scaling factor α" value={alpha} onChange={setAlpha} min={0.01} step={0.5} hint="Gradient used α = 4" />}
        <fieldset>
          <legend>Method</legend>
          <div className="radio-row">
            {METHODS.map((m) => (
              <label key={m}><input type="radio" name={`${uid}-method`} value={m} checked={method === m} onChange={() => setMethod(m)} /> {m === 'full' ? 'full fine-tune' : m === 'lora' ? 'LoRA' : 'QLoRA'}</label>
            ))}
          </div>
          {method !== 'full' && <NumberField id={`${uid}-rank`} label="LoRA rank" value={rank} onChange={setRank} min={1} integer hint="q, k, v, o projections" />}
        </fieldset>
        <div className="field">
          <label htmlFor={`${uid}-gpu`}>GPU type</label>
          <select id={`${uid}-gpu`} value={gpuId} onChange={(e) => setGpuId(e.target.value)}>
            {gpus.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
          </select>
        </div>
        <fieldset>
          <legend>Serving (vLLM)</legend>
          <div className="form-grid" style={{ gridTemplateColumns: '1fr 1fr' }}>
            <div className="field">
              <label htmlFor={`${uid}-tp`}>GPUs (tensor parallel)</label>
              <select id={`${uid}-tp`} value={tp} onChange={(e) => setTp(e.target.value)}>
                {[1, 2, 4, 8, 16].map((n) => <option key={n} value={n}>{n}</option>)}
              </select>
            </div>
            <NumberField id={`${uid}-util`} label="Memory utilisation" value={util} onChange={setUtil} min={0.05} max={1} step={0.05} />
          </div>
          <div className="field">
            <label htmlFor={`${uid}-kv`}>KV cache dtype</label>
            <select id={`${uid}-kv`} value={kvDtype} onChange={(e) => setKvDtype(e.target.value as 'auto' | 'fp8')}>
              <option value="auto">auto (bf16)</option>
              <option value="fp8">fp8</option>
            </select>
          </div>
        </fieldset>
        <fieldset>
          <legend>Training stage</legend>
          <div className="form-grid" style={{ gridTemplateColumns: '1fr 1fr' }}>
            <NumberField id={`${uid}-gpus`} label="GPUs (ring)" value={trainGpus} onChange={setTrainGpus} min={1} integer />
            <NumberField id={`${uid}-batch`} label="Batch size" value={batch} onChange={setBatch} min={1} integer />
            <NumberField id={`${uid}-accum`} label="Grad. accumulation" value={accum} onChange={setAccum} min={1} integer />
            <NumberField id={`${uid}-steps`} label="Steps" value={steps} onChange={setSteps} min={1} integer />
          </div>
          <div className="field">
            <label htmlFor={`${uid}-trained`}>Tokens trained on (optional)</label>
            <input id={`${uid}-trained`} type="number" inputMode="numeric" value={trained} min={1} onChange={(e) => setTrained(e.target.value)} aria-invalid={trainedBad} aria-describedby={trainedBad ? `${uid}-trained-err` : undefined} />
            {trainedBad ? (
              <span id={`${uid}-trained-err`} className="field-error">enter a whole number ≥ 1, or leave it empty</span>
            ) : (
              <span className="hint">the samples&apos; real lengths summed; empty counts every sequence at the full length (length × batch × accumulation × steps)</span>
            )}
          </div>
          <NumberField
            id={`${uid}-mfu`}
            label="MFU"
            value={mfu}
            onChange={setMfu}
            min={0.01}
            max={1}
            step={0.05}
            hint={`model-FLOPs utilisation (6N + 12·layers·d_model·L, recomputation not counted). Default ${DEFAULT_MFU}: an assumption for multi-GPU long-context training, not a measurement; one H200 training a 4-layer Llama-3-8B-shaped model alone reached 0.58–0.67 at 8K–64K with checkpointing (0.44–0.58 without the embedding in N)`}
          />
          <div className="field">
            <label htmlFor={`${uid}-optimizer`}>Optimizer states (memory)</label>
            <select id={`${uid}-optimizer`} value={optimizer} onChange={(e) => setOptimizer(e.target.value as OptimizerPrecision)}>
              {optimizerPrecisionSchema.options.map((p) => <option key={p} value={p}>{OPTIMIZER_LABELS[p]}{p === 'fp32-master' ? ' — default' : ''}</option>)}
            </select>
            <span className="hint">fp32 master: bf16 weights and gradients 2 + 2, fp32 master weights, Adam m and v 4 + 4 + 4. bf16: weights, gradients, AdamW m and v at 2 each</span>
          </div>
        </fieldset>
      </form>

      <div aria-live="polite" aria-busy={pending}>
        <p className="updating">{pending ? <><span className="spinner" aria-hidden="true" /> updating…</> : results ? 'up to date' : ''}</p>
        <ErrorCallout message={error} />
        {!results && !error && <div className="panel"><div className="skeleton" style={{ height: 120 }} /></div>}
        {results && (
          <>
            <section className="panel" aria-labelledby="theta-h" data-testid="planner-theta">
              <h2 id="theta-h">RoPE θ for {contextLabel(t)}</h2>
              <div className="result-big" data-testid="theta-value">{fmtInt(results.theta.theta)}</div>
              <div className="result-sub">rule {results.theta.rule} · from θ₀ {fmtInt(model?.ropeTheta)} at {fmtInt(model?.maxPositionEmbeddings)} tokens{results.theta.criticalDimension ? ` · d_extra ${fmtNum(results.theta.criticalDimension, 3)}` : ''}</div>
              <pre className="explain">{results.theta.explanation}</pre>
              {results.theta.ropeScaling && <p className="panel-note">rope_scaling: <code>{JSON.stringify(results.theta.ropeScaling)}</code></p>}
              {results.theta.chain && results.theta.chain.length > 1 && (
                <p className="panel-note">Progressive: {results.theta.chain.map((c) => `${fmtInt(c.theta)} @ ${contextLabel(c.length)}`).join(' → ')}</p>
              )}
            </section>

            <div className="cols">
              <section className="panel" aria-labelledby="mem-h">
                <h2 id="mem-h">Memory</h2>
                <div className="result-big">{fmtInt(results.memory.kvBytesPerToken)} <small style={{ fontSize: 14, fontWeight: 500 }}>bytes / token</small></div>
                <div className="result-sub">KV cache, bf16 · {fmtInt(results.memory.kvBytesPerTokenPerGpu)} B per GPU at TP {tp}</div>
                <dl className="kv" style={{ marginTop: 12 }}>
                  <div className="kv-row"><dt>one {contextLabel(t)} sequence</dt><dd>{fmtBytes(results.memory.kvBytesPerToken * t)} of KV cache</dd></div>
                  <div className="kv-row"><dt>weights</dt><dd>{fmtBytes(results.memory.weightBytes)} · {fmtBytes(results.memory.weightBytesPerGpu)} per GPU</dd></div>
                  <div className="kv-row"><dt>parameters</dt><dd>{fmtInt(results.memory.parameters.total)}</dd></div>
                  {results.adapter && <div className="kv-row"><dt>LoRA r{rank} adapter</dt><dd>{fmtInt(results.adapter.params)} params · {fmtBytes(results.adapter.bytes)}</dd></div>}
                </dl>
              </section>

              <section className="panel" aria-labelledby="serve-h" data-testid="planner-serving">
                <div className="panel-head">
                  <h2 id="serve-h">Serving on {tp} × {gpu?.name.replace('NVIDIA ', '')}</h2>
                  {serving && <span className={`badge ${serving.fits ? 'badge-ok' : 'badge-bad'}`}>{serving.fits ? 'fits' : 'no fit'}</span>}
                </div>
                {'error' in results.serving ? (
                  <div className="callout error"><p>{results.serving.error}</p></div>
                ) : serving ? (
                  <>
                    <div className="result-big">{serving.fits ? 'fits' : 'does not fit'}</div>
                    <div className="result-sub">{serving.fits ? `${fmtNum(serving.concurrentFullLengthSequences, 1)} full-length sequences at once` : `longest --max-model-len that fits: ${fmtInt(serving.maxModelLenThatFits)}`}</div>
                    <MemoryBar plan={serving} />
                    <dl className="kv">
                      <div className="kv-row"><dt>KV cache holds</dt><dd>{fmtInt(serving.kvCacheTokens)} tokens</dd></div>
                      <div className="kv-row"><dt>max model len that fits</dt><dd>{fmtInt(serving.maxModelLenThatFits)}</dd></div>
                      <div className="kv-row"><dt>smallest TP that fits</dt><dd>{serving.smallestFittingTensorParallelSize ?? 'none'}</dd></div>
                    </dl>
                    {serving.problems.length > 0 && <ul className="panel-note">{serving.problems.map((p) => <li key={p}>{p}</li>)}</ul>}
                  </>
                ) : null}
              </section>
            </div>

            <section className="panel" aria-labelledby="train-h" data-testid="planner-training">
              <h2 id="train-h">Training a {contextLabel(t)} stage ({method}) on {trainGpus} × {gpu?.name.replace('NVIDIA ', '')}</h2>
              {'error' in results.recipe ? (
                <div className="callout error"><p>{results.recipe.error}</p></div>
              ) : !recipe?.plan ? (
                <div className="callout warn"><p>{recipe?.reason ?? 'no plan'}</p></div>
              ) : (
                <>
                  <div className="stats" style={{ marginBottom: 8 }}>
                    <div className="stat"><div className="n" data-testid="gpu-hours">{fmtInt(stage?.gpuHours)}</div><div className="l">GPU-hours at MFU {mfu}</div></div>
                    <div className="stat"><div className="n">{fmtNum(stage?.wallHours, 1)}</div><div className="l">wall hours</div></div>
                    <div className="stat"><div className="n">{fmtSci(stage?.tokens, 2)}</div><div className="l">tokens ({fmtInt(stage?.tokens)}{stage?.tokensStated ? ', stated' : ', every sequence at full length'})</div></div>
                    <div className="stat"><div className="n">{fmtSci(stage?.flopsPerToken, 2)}</div><div className="l">FLOPs per token ({fmtSci(stage?.flopsPerTokenWithoutEmbeddings, 2)} without the embedding)</div></div>
                  </div>
                  {training && (
                    <p className="result-sub">
                      Memory per GPU (ring attention over {trainGpus}, ZeRO-3, {training.bytesPerParam} bytes/param, activation checkpointing at every layer): <strong>{fmtBytes(training.total)}</strong> of {fmtBytes(gpuBytes)}{' '}
                      {training.total > gpuBytes ? <span className="status-bad">— does not fit: add GPUs to the ring</span> : <span className="status-ok">— fits</span>}
                      {method !== 'full' && ' (full fine-tune estimate; LoRA keeps optimizer states for the adapter only and needs less)'}
                    </p>
                  )}
                  {training && (
                    <details className="panel-note">
                      <summary>What the memory estimate assumes</summary>
                      <ul>{training.assumptions.map((a) => <li key={a}>{a}</li>)}</ul>
                      <p>
                        Checked against one H200 training a 4-layer Llama-3-8B-shaped model (batch 1, checkpointing, bf16 weights and AdamW states) at 8K–64K: the estimate is higher than the measured peak up to 32K,
                        because it counts gradients, a ZeRO-3 gather buffer and 2 GiB of overhead that one GPU without ZeRO did not hold at its peak, and about 1% lower at 64K, where its per-token part, 8% under the measured one, catches up.
                      </p>
                    </details>
                  )}
                  {[...recipe.plan.errors, ...recipe.plan.warnings].length > 0 && (
                    <ul className="panel-note">{[...recipe.plan.errors, ...recipe.plan.warnings].map((w) => <li key={w.message}>{w.message}</li>)}</ul>
                  )}
                </>
              )}
            </section>

            {serving && (
              <section className="panel" aria-labelledby="cmd-h">
                <h2 id="cmd-h">vLLM command</h2>
                <pre className="cmd">{serving.command.shell}</pre>
              </section>
            )}
          </>
        )}
      </div>
    </div>
  );
}

function MemoryBar({ plan }: { plan: Out['planner']['serving'] }) {
  const m = plan.perGpu;
  const total = m.totalBytes || 1;
  const parts = [
    ['weights', m.weightBytes, '#2f5bd3'],
    ['reserve + activations', m.fixedReserveBytes + m.activationBytes + m.logitsBytes, '#8a93a6'],
    ['KV cache', Math.max(0, m.kvCacheBytes), '#0CD79F'],
    ['unused (utilisation)', Math.max(0, m.totalBytes - m.usableBytes), '#e7eaf0'],
  ] as const;
  return (
    <>
      <div className="bar-stack" role="img" aria-label={`Per GPU: ${parts.map(([n, v]) => `${n} ${fmtBytes(v)}`).join(', ')}`}>
        {parts.map(([n, v, c]) => <span key={n} title={`${n}: ${fmtBytes(v)}`} style={{ width: `${(Math.max(0, v) / total) * 100}%`, background: c }} />)}
      </div>
      <div className="legend" style={{ marginBottom: 10 }}>
        {parts.map(([n, v, c]) => <span key={n}><span className="sw" style={{ background: c }} />{n} {fmtBytes(v)}</span>)}
      </div>
    </>
  );
}
