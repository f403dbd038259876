import type { HubFiles } from './files';
import { HubImportError, type IssueLog } from './issues';
import { isObject, parseObject } from './json';
import { readSafetensorsHeader, summarise, type SafetensorsHeader, type WeightSummary } from './safetensors';

/** Reads headers, folding a header's own HubImportError into `log` so one error lists everything. */
async function header(files: HubFiles, log: IssueLog, file: string): Promise<SafetensorsHeader | null> {
  try {
    return await readSafetensorsHeader(files, file);
  } catch (e) {
    if (!(e instanceof HubImportError)) throw e;
    log.issues.push(...e.issues);
    return null;
  }
}

/**
 * Parameter count and bytes of a checkpoint from its safetensors headers: the shards an index
 * (`<stem>.safetensors.index.json`) names, else the single `<stem>.safetensors`; null when the
 * repository has neither (e.g. only pytorch_model.bin). Problems are logged as errors.
 */
export async function readWeights(files: HubFiles, names: readonly string[], log: IssueLog, stem: string): Promise<{ summary: WeightSummary; headers: SafetensorsHeader[] } | null> {
  const indexName = `${stem}.safetensors.index.json`;
  const single = `${stem}.safetensors`;
  const has = new Set(names);
  if (has.has(indexName)) {
    const index = parseObject(log, indexName, (await files.readText(indexName)) ?? '');
    const map = index.weight_map;
    if (!isObject(map)) {
      log.error(indexName, 'weight_map', `weight_map must map tensor names to shard files, got ${map === undefined ? 'nothing' : typeof map}`);
      return null;
    }
    const shards = new Map<string, string[]>();
    for (const [tensor, shard] of Object.entries(map)) {
      if (typeof shard !== 'string') {
        log.error(indexName, `weight_map.${tensor}`, `weight_map maps "${tensor}" to ${JSON.stringify(shard)}; expected a shard file name`);
        continue;
      }
      shards.set(shard, [...(shards.get(shard) ?? []), tensor]);
    }
    const missing = [...shards.keys()].filter((s) => !has.has(s));
    for (const s of missing) log.error(indexName, 'weight_map', `weight_map names shard ${s} (for ${shards.get(s)?.[0]} and ${(shards.get(s)?.length ?? 1) - 1} more tensors), which is not in the repository`);
    if (missing.length || log.hasErrors) return null;
    const headers = await Promise.all([...shards.keys()].sort().map((s) => header(files, log, s)));
    if (headers.some((h) => h === null)) return null;
    for (const h of headers as SafetensorsHeader[]) {
      const inHeader = new Set(h.tensors.map((t) => t.name));
      const absent = (shards.get(h.file) ?? []).filter((t) => !inHeader.has(t));
      if (absent.length) log.error(indexName, `weight_map.${absent[0]}`, `weight_map places ${absent.length} tensor(s) in ${h.file} that its header does not hold, first "${absent[0]}"`);
      const unmapped = h.tensors.filter((t) => map[t.name] !== h.file);
      if (unmapped.length) log.warn(h.file, unmapped[0]?.name ?? 'header', `holds ${unmapped.length} tensor(s) that ${indexName} does not map to it, first "${unmapped[0]?.name}"; they are counted`);
    }
    const summary = summarise(headers as SafetensorsHeader[]);
    const total = isObject(index.metadata) ? index.metadata.total_size : undefined;
    if (typeof total === 'number' && total !== summary.bytes) {
      log.warn(indexName, 'metadata.total_size', `metadata.total_size ${total.toLocaleString('en-US')} differs from the ${summary.bytes.toLocaleString('en-US')} bytes of tensor data the shard headers describe`);
    }
    return { summary, headers: headers as SafetensorsHeader[] };
  }
  if (has.has(single)) {
    const h = await header(files, log, single);
    return h ? { summary: summarise([h]), headers: [h] } : null;
  }
  return null;
}
