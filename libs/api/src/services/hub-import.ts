import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adapterCreateInput, badRequest, modelCreateInput, type HubImportInput } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import type { Artifacts } from '@ctxlab/dispatch';
import { publishTokenizer } from '@ctxlab/jobs';
import { cardMetadata, importHubModel, uploadedFiles, type HubImport } from '@ctxlab/hub';
import { sha256Hex } from '@ctxlab/niah';
import { builtinTokenizerFor, getTokenizer } from '@ctxlab/tokenizers';

/** What the tokenizer registry reads from an `hf:` folder (config.json: for a BOS that tokenizer_config.json leaves out). */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json'] as const;


/**
 * A tokenizer.json (+ tokenizer_config.json) stored under the artifact root by content, so the
 * worker and the portal load the same files by the name `hf:<dir>`. The folder appears whole or
 * not at all (written aside, then renamed), and the same files imported twice share one folder.
 */
async function storeTokenizer(artifacts: Artifacts, files: Record<string, string>): Promise<string> {
  const digest = sha256Hex(TOKENIZER_FILES.map((f) => `${f}\u0000${files[f] ?? ''}`).join('\u0000'));
  const dir = join(artifacts.local.root, 'tokenizers', digest.slice(0, 24));
  const done = await stat(join(dir, 'tokenizer.json')).then(
    () => true,
    () => false,
  );
  if (!done) {
    const tmp = `${dir}.partial-${randomBytes(6).toString('hex')}`;
    await mkdir(tmp, { recursive: true });
    try {
      for (const f of TOKENIZER_FILES) if (files[f] !== undefined) await writeFile(join(tmp, f), files[f]);
      await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
        // Another import of the same files won the race: theirs is identical.
        if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  // With a bucket, the folder is also stored there: workers on other machines fetch it by name.
  await publishTokenizer(artifacts, dir);
  return `hf:${dir}`;
}

/** What an import leaves in the model's `hub` column: enough to re-card it and to see what was read. */
function hubRecord(imp: HubImport, files: HubImportInput['files'], safetensors: HubImportInput['safetensors']) {
  return {
    hubName: imp.hubName,
    nameOrPath: imp.nameOrPath,
    importedAt: new Date().toISOString(),
    files: [
      ...files.map((f) => ({ name: f.name, bytes: Buffer.byteLength(f.text), sha256: sha256Hex(f.text) })),
      ...safetensors.map((f) => ({ name: f.name, bytes: f.size, headerSha256: sha256Hex(Buffer.from(f.head, 'base64')) })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    weights: imp.weights,
    tokenizer: imp.tokenizer,
    generation: imp.generation,
    ...(imp.kind === 'model' ? { family: imp.family, configParams: imp.configParams } : {}),
    warnings: imp.issues,
  };
}

/** A README.md's card metadata, when the directory had one that reads as a card (else nothing). */
function readmeMetadata(files: HubImportInput['files']) {
  const readme = files.find((f) => f.name === 'README.md');
  if (!readme) return null;
  try {
    return cardMetadata(readme.text);
  } catch {
    return null;
  }
}

async function resolveTokenizer(artifacts: Artifacts, texts: Record<string, string>, given: string | undefined, dryRun: boolean) {
  const json = texts['tokenizer.json'];
  if (json === undefined) {
    if (!given) {
      throw badRequest(
        'tokenizer.json is missing: ctxlab counts tokens with the model’s own fast tokenizer; send tokenizer.json (a SentencePiece tokenizer.model alone is not read), or name a registered tokenizer in `tokenizer`',
        'files',
      );
    }
    getTokenizer(given);
    return given;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw badRequest(`tokenizer.json: not JSON (${(e as Error).message})`, 'files');
  }
  // Llama-3's and the other shipped vocabularies keep their fast, exact paths.
  const builtin = builtinTokenizerFor(parsed);
  if (builtin) return builtin;
  if (dryRun) return 'hf:(stored on import)';
  const name = await storeTokenizer(artifacts, texts);
  try {
    getTokenizer(name);
  } catch (e) {
    throw badRequest(`tokenizer.json: ${(e as Error).message}`, 'files');
  }
  return name;
}

/**
 * Imports a model or PEFT adapter from its Hugging Face files (config.json, safetensors headers,
 * tokenizer and generation configs, adapter_config.json, README.md). Errors name the file and field
 * and write nothing; `dryRun` reports what would be registered.
 */
export async function importFromHub(deps: { repos: Repositories; artifacts: Artifacts }, input: HubImportInput) {
  const texts: Record<string, string> = Object.fromEntries(input.files.map((f) => [f.name, f.text]));
  const heads = Object.fromEntries(input.safetensors.map((f) => [f.name, { size: f.size, head: new Uint8Array(Buffer.from(f.head, 'base64')) }]));
  const imp = await importHubModel(uploadedFiles(texts, heads));
  const card = readmeMetadata(input.files);
  const license = input.license ?? card?.license ?? undefined;
  const tags = input.tags.length ? input.tags : (card?.tags ?? []).slice(0, 32);
  const defaultName = imp.hubName?.split('/').pop() ?? imp.nameOrPath?.split('/').filter(Boolean).pop();
  const name = input.name ?? defaultName;
  if (!name) throw badRequest('name: config.json names no model (_name_or_path): give the model a name', 'name');
  const sourceUri = input.sourceUri ?? (imp.hubName ? `hf://${imp.hubName}` : undefined);
  const hub = hubRecord(imp, input.files, input.safetensors);

  if (imp.kind === 'adapter') {
    const a = imp.adapter;
    const base = input.baseModelId ? await deps.repos.models.get(input.baseModelId) : a.baseModel ? await deps.repos.models.findByHubName(a.baseModel) : null;
    if (!base) {
      throw badRequest(
        a.baseModel
          ? `adapter_config.json: base_model_name_or_path "${a.baseModel}" is not in the registry: import or create that model first, or pick its base with baseModelId`
          : 'adapter_config.json: base_model_name_or_path is empty: pick the base model with baseModelId',
        'baseModelId',
      );
    }
    const parsed = adapterCreateInput.safeParse({
      name,
      description: input.description,
      baseModelId: base.id,
      rank: a.rank,
      alpha: a.alpha,
      targetModules: a.targetModules.length ? a.targetModules : a.targetModulesPattern ? [a.targetModulesPattern] : [],
      ...(imp.weights ? { sizeBytes: imp.weights.bytes } : {}),
      ...(sourceUri ? { uri: sourceUri } : {}),
      tags,
    });
    if (!parsed.success) throw badRequest(`adapter: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'files');
    if (input.dryRun) return { kind: 'adapter' as const, created: null, adapter: parsed.data, base: { id: base.id, name: base.name }, hub };
    const created = await deps.repos.adapters.create(parsed.data);
    return { kind: 'adapter' as const, created: { id: created.id, name: created.name }, adapter: parsed.data, base: { id: base.id, name: base.name }, hub };
  }

  const tokenizer = await resolveTokenizer(deps.artifacts, texts, input.tokenizer, input.dryRun);
  const parsed = modelCreateInput.safeParse({
    name,
    description: input.description,
    family: input.family ?? imp.family.family,
    origin: 'base',
    ...(sourceUri ? { sourceUri } : {}),
    tags,
    ...(license ? { license } : {}),
    config: { ...imp.config, tokenizer },
  });
  if (!parsed.success) throw badRequest(`config.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'files');
  if (input.dryRun) return { kind: 'model' as const, created: null, model: parsed.data, hub };
  const created = await deps.repos.models.create(parsed.data, hub);
  return { kind: 'model' as const, created: { id: created.id, name: created.name }, model: parsed.data, hub };
}
