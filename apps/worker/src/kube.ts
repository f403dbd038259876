/**
 * The Kubernetes executor of this worker, from its environment. Off unless
 * CTXLAB_KUBE_EXECUTOR says where the API server is: `in-cluster` (the pod's service account, as
 * the Helm chart deploys the worker) or `kubeconfig` (KUBECONFIG, optionally KUBE_CONTEXT).
 * Images, namespace, GPU pool labels and storage are configuration: nothing here names a cluster.
 */
import { KubeConfig, type V1Volume, type V1VolumeMount } from '@kubernetes/client-node';
import { KubernetesExecutor, type KubeManifestOptions } from '@ctxlab/dispatch';
import { z } from 'zod';

const json = <T extends z.ZodTypeAny>(name: string, schema: T) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s?.trim()) return undefined;
      try {
        return schema.parse(JSON.parse(s)) as z.infer<T>;
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `${name} must be JSON (${(e as Error).message.split('\n')[0]})` });
        return z.NEVER;
      }
    });

const list = z
  .string()
  .optional()
  .transform((s) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean));

/** A variable that may be left unset. */
const optionalText = z.string().optional();

const schema = z
  .object({
    CTXLAB_KUBE_EXECUTOR: z.enum(['off', 'in-cluster', 'kubeconfig'], { message: 'CTXLAB_KUBE_EXECUTOR must be off, in-cluster or kubeconfig' }).default('off'),
    KUBECONFIG: optionalText,
    KUBE_CONTEXT: optionalText,
    CTXLAB_JOB_NAMESPACE: z.string().default('ctxlab'),
    CTXLAB_JOB_SERVICE_ACCOUNT: optionalText,
    CTXLAB_GPU_TYPE_LABEL: optionalText,
    CTXLAB_GPU_RESOURCE: optionalText,
    CTXLAB_JOB_SHM_SIZE: optionalText,
    /** Image for kinds without their own (CTXLAB_JOB_IMAGE_TRAIN, _LORA_EXTRACT, _LORA_MERGE, _SERVE). */
    CTXLAB_JOB_IMAGE: optionalText,
    CTXLAB_JOB_IMAGE_TRAIN: optionalText,
    CTXLAB_JOB_IMAGE_LORA_EXTRACT: optionalText,
    CTXLAB_JOB_IMAGE_LORA_MERGE: optionalText,
    CTXLAB_JOB_IMAGE_SERVE: optionalText,
    CTXLAB_JOB_IMAGE_PULL_SECRETS: list,
    /** Kubernetes volumes (e.g. the artifacts PVC) and where job containers mount them, as JSON arrays. */
    CTXLAB_JOB_VOLUMES: json('CTXLAB_JOB_VOLUMES', z.array(z.object({ name: z.string() }).passthrough())),
    CTXLAB_JOB_VOLUME_MOUNTS: json('CTXLAB_JOB_VOLUME_MOUNTS', z.array(z.object({ name: z.string(), mountPath: z.string() }).passthrough())),
    CTXLAB_JOB_TTL_SECONDS: z.coerce.number().int().min(0).optional(),
    CTXLAB_KUBE_POLL_MS: z.coerce.number().int().min(10).optional(),
    /** An image with this checkout: its apps/worker/src/stage.ts moves jobs' s3:// artifacts in their pods. */
    CTXLAB_KUBE_STAGER_IMAGE: optionalText,
    /** How that image runs the stager, as a JSON array (run from the checkout's root). */
    CTXLAB_KUBE_STAGER_COMMAND: json('CTXLAB_KUBE_STAGER_COMMAND', z.array(z.string().min(1)).min(1)),
    /** A Secret in the jobs' namespace with the stager's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (absent: a pod role). */
    CTXLAB_KUBE_S3_SECRET: optionalText,
  })
  .superRefine((e, ctx) => {
    if (e.CTXLAB_KUBE_EXECUTOR === 'kubeconfig' && !e.KUBECONFIG) ctx.addIssue({ code: 'custom', path: ['KUBECONFIG'], message: 'KUBECONFIG must name a kubeconfig file when CTXLAB_KUBE_EXECUTOR=kubeconfig' });
    const images = [e.CTXLAB_JOB_IMAGE, e.CTXLAB_JOB_IMAGE_TRAIN, e.CTXLAB_JOB_IMAGE_LORA_EXTRACT, e.CTXLAB_JOB_IMAGE_LORA_MERGE, e.CTXLAB_JOB_IMAGE_SERVE];
    if (e.CTXLAB_KUBE_EXECUTOR !== 'off' && !images.some(Boolean)) {
      ctx.addIssue({ code: 'custom', path: ['CTXLAB_JOB_IMAGE'], message: 'the Kubernetes executor needs container images: CTXLAB_JOB_IMAGE and/or CTXLAB_JOB_IMAGE_<TRAIN|LORA_EXTRACT|LORA_MERGE|SERVE> (a kind without one is refused when a job of it starts)' });
    }
  });

export type KubeEnv = z.infer<typeof schema>;

export function loadKubeEnv(env: Record<string, string | undefined> = process.env): KubeEnv {
  const r = schema.safeParse(env);
  if (!r.success) throw new Error(`worker configuration: ${r.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The executor this environment describes, or null when the Kubernetes executor is off. */
export function kubernetesExecutorFromEnv(env: Record<string, string | undefined> = process.env): KubernetesExecutor | null {
  const e = loadKubeEnv(env);
  if (e.CTXLAB_KUBE_EXECUTOR === 'off') return null;
  const kubeConfig = new KubeConfig();
  if (e.CTXLAB_KUBE_EXECUTOR === 'in-cluster') kubeConfig.loadFromCluster();
  else {
    try {
      kubeConfig.loadFromFile(e.KUBECONFIG!);
    } catch (err) {
      throw new Error(`worker configuration: KUBECONFIG ${e.KUBECONFIG} cannot be read: ${(err as Error).message}`);
    }
    if (e.KUBE_CONTEXT) {
      if (!kubeConfig.getContextObject(e.KUBE_CONTEXT)) throw new Error(`worker configuration: KUBE_CONTEXT ${e.KUBE_CONTEXT} is not a context of ${e.KUBECONFIG}`);
      kubeConfig.setCurrentContext(e.KUBE_CONTEXT);
    }
  }
  const images: KubeManifestOptions['images'] = {};
  if (e.CTXLAB_JOB_IMAGE) images.default = e.CTXLAB_JOB_IMAGE;
  if (e.CTXLAB_JOB_IMAGE_TRAIN) images.train = e.CTXLAB_JOB_IMAGE_TRAIN;
  if (e.CTXLAB_JOB_IMAGE_LORA_EXTRACT) images['lora-extract'] = e.CTXLAB_JOB_IMAGE_LORA_EXTRACT;
  if (e.CTXLAB_JOB_IMAGE_LORA_MERGE) images['lora-merge'] = e.CTXLAB_JOB_IMAGE_LORA_MERGE;
  if (e.CTXLAB_JOB_IMAGE_SERVE) images.serve = e.CTXLAB_JOB_IMAGE_SERVE;
  return new KubernetesExecutor({
    kubeConfig,
    namespace: e.CTXLAB_JOB_NAMESPACE,
    images,
    ...(e.CTXLAB_JOB_SERVICE_ACCOUNT ? { serviceAccountName: e.CTXLAB_JOB_SERVICE_ACCOUNT } : {}),
    ...(e.CTXLAB_GPU_TYPE_LABEL ? { gpuTypeLabel: e.CTXLAB_GPU_TYPE_LABEL } : {}),
    ...(e.CTXLAB_GPU_RESOURCE ? { gpuResource: e.CTXLAB_GPU_RESOURCE } : {}),
    ...(e.CTXLAB_JOB_SHM_SIZE ? { shmSizeLimit: e.CTXLAB_JOB_SHM_SIZE } : {}),
    ...(e.CTXLAB_JOB_IMAGE_PULL_SECRETS.length ? { imagePullSecrets: e.CTXLAB_JOB_IMAGE_PULL_SECRETS } : {}),
    ...(e.CTXLAB_JOB_VOLUMES ? { volumes: e.CTXLAB_JOB_VOLUMES as unknown as V1Volume[] } : {}),
    ...(e.CTXLAB_JOB_VOLUME_MOUNTS ? { volumeMounts: e.CTXLAB_JOB_VOLUME_MOUNTS as unknown as V1VolumeMount[] } : {}),
    ...(e.CTXLAB_JOB_TTL_SECONDS !== undefined ? { ttlSecondsAfterFinished: e.CTXLAB_JOB_TTL_SECONDS } : {}),
    ...(e.CTXLAB_KUBE_POLL_MS ? { pollIntervalMs: e.CTXLAB_KUBE_POLL_MS } : {}),
    ...(e.CTXLAB_KUBE_STAGER_IMAGE ? { stager: stagerOf(e, env) } : {}),
  });
}

/** The S3 settings the stager gets from the worker's own (the keys go by Secret, never as values). */
const STAGER_ENV = ['CTXLAB_ARTIFACT_BUCKET', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'CTXLAB_S3_FORCE_PATH_STYLE'] as const;

function stagerOf(e: KubeEnv, env: Record<string, string | undefined>): NonNullable<KubeManifestOptions['stager']> {
  return {
    image: e.CTXLAB_KUBE_STAGER_IMAGE!,
    command: e.CTXLAB_KUBE_STAGER_COMMAND ?? ['node', '--import', 'tsx', 'apps/worker/src/stage.ts'],
    env: STAGER_ENV.filter((k) => env[k]?.trim()).map((k) => ({ name: k, value: env[k]! })),
    ...(e.CTXLAB_KUBE_S3_SECRET ? { secretName: e.CTXLAB_KUBE_S3_SECRET } : {}),
  };
}
