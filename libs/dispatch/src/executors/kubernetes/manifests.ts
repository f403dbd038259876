import { createHash } from 'node:crypto';
import type {
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Job,
  V1ObjectMeta,
  V1OwnerReference,
  V1PodSpec,
  V1Service,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { findGpu } from '@ctxlab/longctx';
import { DispatchError } from '../../errors';
import { checkRenderedJob, jobFilePath } from '../../policy/job';
import { MASTER_ADDR_ENV, NODE_RANK_ENV, type RenderedJob } from '../../render/types';
import type { JobKind } from '../../specs';

/** How ctxlab's jobs look on a cluster. Everything has a default but the namespace and the images. */
export interface KubeManifestOptions {
  namespace: string;
  /** Container image per job kind (`default` for kinds not named). */
  images: Partial<Record<JobKind | 'default', string>>;
  /** Default ctxlab-jobs. */
  serviceAccountName?: string;
  /** Seconds a finished Job is kept before Kubernetes deletes it. Default 7 days. */
  ttlSecondsAfterFinished?: number;
  /** Extended resource name of a GPU. Default nvidia.com/gpu. */
  gpuResource?: string;
  /** Node label that names a node's GPU type. Default ctxlab.dev/gpu-type. */
  gpuTypeLabel?: string;
  /** Size limit of the in-memory /dev/shm NCCL and dataloaders use. Default 64Gi. */
  shmSizeLimit?: string;
  /** Extra volumes (artifact PVCs, a model cache) and where the container mounts them. */
  volumes?: V1Volume[];
  volumeMounts?: V1VolumeMount[];
  imagePullSecrets?: string[];
  /** Rendezvous port of rank 0 in multi-machine jobs. Default 29500. */
  masterPort?: number;
  /**
   * How a job's s3:// artifacts are moved (RenderedJob.staging): an image with ctxlab's stager
   * (apps/worker/src/stage.ts) and the command that runs it; its S3 settings as env, the keys from
   * a Secret. Without it, a job that stages is refused.
   */
  stager?: { image: string; command: string[]; env?: V1EnvVar[]; secretName?: string };
}

/** Where staged artifacts live in a job's pods (an emptyDir shared by the stager and the job). */
export const STAGE_DIR = '/ctxlab/stage';
/** The file the job's command leaves its exit status in, for the stager that uploads after it. */
export const STAGE_EXIT_FILE = `${STAGE_DIR}/.exit`;

export const LABEL_JOB_ID = 'ctxlab.dev/job-id';
export const LABEL_KIND = 'ctxlab.dev/kind';
export const ANNOTATION_JOB_ID = 'ctxlab.dev/job-id';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'ctxlab' } as const;
export const CONTAINER_NAME = 'main';
/** The container's working directory: a writable emptyDir, with the rendered files mounted into it. */
export const WORK_DIR = '/ctxlab/work';
/** Label the Job controller puts on each pod of an Indexed Job (Kubernetes ≥ 1.28). */
export const COMPLETION_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';
const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/**
 * Kubernetes name for a job's objects: `ctxlab-<id>`, lower-cased; when the id had to change to fit
 * (case, characters, length), a hash of the original keeps distinct ids distinct. At most 52
 * characters, so `<name>-<index>` pod hostnames of multi-machine jobs stay valid DNS labels.
 */
export function kubeName(jobId: string): string {
  const slug = jobId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const exact = slug === jobId && slug.length <= 45;
  const name = exact ? `ctxlab-${slug}` : `ctxlab-${slug.slice(0, 36).replace(/-$/, '')}-${shortHash(jobId)}`;
  if (!DNS_LABEL.test(name)) throw new DispatchError('INVALID_SPEC', `job id "${jobId}" cannot be turned into a Kubernetes name`, 'jobId');
  return name;
}

/** The job-id label value: the id itself when it is a valid label value, else the object name. */
export function jobIdLabel(jobId: string): string {
  return jobId.length <= 63 && LABEL_VALUE.test(jobId) ? jobId : kubeName(jobId);
}

/** Label value for a GPU type: the catalog id when the catalog knows it ("A800-80G" → a800-80gb), else the name lower-cased. */
export function gpuTypeLabelValue(gpuType: string): string {
  const id = findGpu(gpuType)?.id;
  if (id) return id;
  const v = gpuType
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 63);
  if (!v) throw new DispatchError('INVALID_SPEC', `GPU type "${gpuType}" cannot be a node label value`, 'gpuType');
  return v;
}

/**
 * What GPU pods tolerate: the taint GPU node groups carry to keep other pods off
 * (`nvidia.com/gpu=present:NoSchedule`), whatever its value. Capacity counts a node only when these
 * tolerate all its NoSchedule and NoExecute taints.
 */
export function gpuTolerations(gpuResource = 'nvidia.com/gpu'): V1Toleration[] {
  return [{ key: gpuResource, operator: 'Exists', effect: 'NoSchedule' }];
}

/** The objects one job becomes. Owners (Job, Deployment) are created first; `ownedBy` links the rest. */
export interface KubeObjects {
  name: string;
  namespace: string;
  /** Selector matching every pod of the job. */
  podSelector: string;
  labels: Record<string, string>;
  configMap: V1ConfigMap | null;
  /** Batch jobs. */
  job?: V1Job;
  /** Multi-machine batch jobs: the headless Service that gives pods `<name>-<index>.<name>` DNS names. */
  headlessService?: V1Service;
  /** Serve jobs. */
  deployment?: V1Deployment;
  service?: V1Service;
}

/**
 * An image reference as the distribution spec writes it: [registry[:port]/]path[:tag][@sha256:digest].
 * Images come from the worker's configuration only (a spec cannot name one); checking the grammar
 * keeps a mistyped setting from reaching the cluster as something else.
 */
const IMAGE_REF = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
/** A Kubernetes quantity such as 64Gi or 512M. */
const QUANTITY = /^\d+(?:\.\d+)?(?:[KMGTPE]i?|k|m)?$/;

function imageFor(job: RenderedJob, o: KubeManifestOptions): string {
  const image = o.images[job.kind] ?? o.images.default;
  if (!image) throw new DispatchError('INVALID_SPEC', `no container image is configured for ${job.kind} jobs`, `images.${job.kind}`);
  if (!IMAGE_REF.test(image)) throw new DispatchError('INVALID_SPEC', `"${image}" is not an image reference ([registry/]name[:tag][@sha256:digest])`, `images.${o.images[job.kind] ? job.kind : 'default'}`);
  return image;
}

function shmSize(o: KubeManifestOptions): string {
  const size = o.shmSizeLimit ?? '64Gi';
  if (!QUANTITY.test(size)) throw new DispatchError('INVALID_SPEC', `shmSizeLimit "${size}" is not a Kubernetes quantity (e.g. 64Gi)`, 'shmSizeLimit');
  return size;
}

/** ConfigMap keys allow [-._a-zA-Z0-9]; the file's path inside the working directory is kept in the volume item. */
function fileKey(path: string, i: number): string {
  return `f${i}-${path.replace(/[^-._a-zA-Z0-9]/g, '_')}`.slice(0, 253);
}

/** Sets a controller owner reference, so Kubernetes' garbage collector deletes `obj` with its owner. */
export function ownedBy<T extends { metadata?: V1ObjectMeta }>(obj: T, owner: { apiVersion: string; kind: string; metadata?: V1ObjectMeta }): T {
  const uid = owner.metadata?.uid;
  const name = owner.metadata?.name;
  if (!uid || !name) throw new Error('owner has no uid yet: create it first');
  const ref: V1OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name, uid, controller: true, blockOwnerDeletion: true };
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [ref] } };
}

/**
 * The stager's containers for a job that moves s3:// artifacts: `stage-in` (an init container)
 * downloads the inputs, digests checked, before the command starts; `stage-out` waits for the
 * command's exit status and, on success, uploads the outputs, each directory's manifest last (on
 * rank 0 only in multi-machine jobs). A serve job only stages in.
 */
function stagingContainers(job: RenderedJob, o: KubeManifestOptions, multi: boolean): { in?: V1Container; out?: V1Container } | null {
  const st = job.staging;
  if (!st || (st.inputs.length === 0 && st.outputs.length === 0)) return null;
  if (!o.stager) {
    const uri = st.inputs[0]?.uri ?? st.outputs[0]!.uri;
    throw new DispatchError('NO_STORE', `${uri}: this job moves s3:// artifacts, and no stager is configured for Kubernetes jobs (set CTXLAB_KUBE_STAGER_IMAGE on the worker)`, 'staging');
  }
  const base = {
    image: o.stager.image,
    env: [...(o.stager.env ?? []), ...(multi ? [{ name: NODE_RANK_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } }] : [])],
    ...(o.stager.secretName ? { envFrom: [{ secretRef: { name: o.stager.secretName } }] } : {}),
    volumeMounts: [{ name: 'stage', mountPath: STAGE_DIR }],
  };
  return {
    ...(st.inputs.length ? { in: { ...base, name: 'stage-in', command: [...o.stager.command, 'in', ...st.inputs.flatMap((x) => [x.uri, x.path])] } } : {}),
    ...(st.outputs.length && job.kind !== 'serve'
      ? { out: { ...base, name: 'stage-out', command: [...o.stager.command, 'out', '--after', STAGE_EXIT_FILE, ...st.outputs.flatMap((x) => [x.path, x.uri])] } }
      : {}),
  };
}

/**
 * Renders a job as Kubernetes objects.
 *
 * Batch (train, lora-extract, lora-merge): a batch/v1 Job — backoffLimit 0 (a failed GPU run is
 * not retried blindly), ttlSecondsAfterFinished, one pod per machine (Indexed, with a headless
 * Service, when the job spans machines), `nvidia.com/gpu` limits = GPUs per machine, a nodeSelector
 * on the GPU type, a toleration for the GPU taint, service account ctxlab-jobs.
 * Serve: a Deployment (Recreate: a rolling update would need twice the GPUs) with readiness on
 * GET /health, and a ClusterIP Service.
 * Rendered files: a ConfigMap, mounted file by file into the writable working directory.
 */
export function renderKubeObjects(jobId: string, job: RenderedJob, o: KubeManifestOptions, extra: { activeDeadlineSeconds?: number } = {}): KubeObjects {
  const name = kubeName(jobId);
  const ns = o.namespace;
  const idLabel = jobIdLabel(jobId);
  const labels = { ...MANAGED_BY, [LABEL_JOB_ID]: idLabel, [LABEL_KIND]: job.kind };
  const annotations = { [ANNOTATION_JOB_ID]: jobId, ...(job.tool.version ? { 'ctxlab.dev/tool': `${job.tool.name}==${job.tool.version}` } : { 'ctxlab.dev/tool': job.tool.name }) };
  const meta = (n: string): V1ObjectMeta => ({ name: n, namespace: ns, labels: { ...labels }, annotations: { ...annotations } });
  const masterPort = o.masterPort ?? 29500;
  const multi = job.resources.nodes > 1;
  const gpus = job.resources.gpusPerNode;
  const gpuResource = o.gpuResource ?? 'nvidia.com/gpu';

  checkRenderedJob(job);
  const files = job.files.map((f, i) => ({ key: fileKey(f.path, i), path: jobFilePath(f.path), content: f.content }));
  const configMap: V1ConfigMap | null = files.length
    ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${name}-files`), data: Object.fromEntries(files.map((f) => [f.key, f.content])) }
    : null;

  const env: V1EnvVar[] = Object.entries(job.env).map(([k, v]) => ({ name: k, value: v }));
  if (multi) {
    // Defined before use: the kubelet expands $(CTXLAB_NODE_RANK) / $(CTXLAB_MASTER_ADDR) in the command.
    env.push(
      { name: NODE_RANK_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } },
      { name: MASTER_ADDR_ENV, value: `${name}-0.${name}.${ns}.svc` },
    );
  }

  const volumes: V1Volume[] = [
    { name: 'work', emptyDir: {} },
    { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: shmSize(o) } },
    ...(configMap ? [{ name: 'files', configMap: { name: configMap.metadata!.name!, items: files.map((f) => ({ key: f.key, path: f.path })) } }] : []),
    ...(o.volumes ?? []),
  ];
  const volumeMounts: V1VolumeMount[] = [
    { name: 'work', mountPath: WORK_DIR },
    { name: 'dshm', mountPath: '/dev/shm' },
    ...files.map((f) => ({ name: 'files', mountPath: `${WORK_DIR}/${f.path}`, subPath: f.path, readOnly: true })),
    ...(o.volumeMounts ?? []),
  ];

  const staged = stagingContainers(job, o, multi);
  if (staged) {
    volumes.push({ name: 'stage', emptyDir: {} });
    volumeMounts.push({ name: 'stage', mountPath: STAGE_DIR });
  }
  const container: V1Container = {
    name: CONTAINER_NAME,
    image: imageFor(job, o),
    // With outputs to upload, the command leaves its exit status for the stager, whatever it is.
    command: staged?.out ? ['sh', '-c', `rc=0; "$@" || rc=$?; echo "$rc" > ${STAGE_EXIT_FILE}; exit "$rc"`, 'ctxlab-job', ...job.argv] : job.argv,
    workingDir: WORK_DIR,
    env,
    volumeMounts,
    ...(gpus > 0 ? { resources: { limits: { [gpuResource]: String(gpus) } } } : {}),
  };

  const tolerations: V1Toleration[] = gpus > 0 ? gpuTolerations(gpuResource) : [];
  const podSpec = (restartPolicy: 'Never' | 'Always'): V1PodSpec => ({
    serviceAccountName: o.serviceAccountName ?? 'ctxlab-jobs',
    restartPolicy,
    ...(staged?.in ? { initContainers: [staged.in] } : {}),
    containers: staged?.out && restartPolicy === 'Never' ? [container, staged.out] : [container],
    volumes,
    ...(gpus > 0 && job.resources.gpuType ? { nodeSelector: { [o.gpuTypeLabel ?? 'ctxlab.dev/gpu-type']: gpuTypeLabelValue(job.resources.gpuType) } } : {}),
    ...(tolerations.length ? { tolerations } : {}),
    ...(o.imagePullSecrets?.length ? { imagePullSecrets: o.imagePullSecrets.map((n) => ({ name: n })) } : {}),
    ...(multi ? { subdomain: name } : {}),
  });

  const base = { name, namespace: ns, podSelector: `${LABEL_JOB_ID}=${idLabel}`, labels, configMap };

  if (job.kind === 'serve') {
    const svc = job.service;
    if (!svc) throw new DispatchError('INVALID_SPEC', 'a serve job needs its service port and health path', 'service');
    const probe = (periodSeconds: number, failureThreshold: number) => ({ httpGet: { path: svc.healthPath, port: svc.port }, periodSeconds, failureThreshold, timeoutSeconds: 5 });
    const deployment: V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { [LABEL_JOB_ID]: idLabel } },
        template: {
          metadata: { labels: { ...labels }, annotations: { ...annotations } },
          spec: {
            ...podSpec('Always'),
            containers: [
              {
                ...container,
                ports: [{ name: 'http', containerPort: svc.port }],
                // Loading a 70B checkpoint takes minutes: the startup probe allows an hour before liveness applies.
                startupProbe: probe(10, 360),
                readinessProbe: probe(5, 3),
                livenessProbe: probe(30, 4),
              },
            ],
          },
        },
      },
    };
    const service: V1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: { type: 'ClusterIP', selector: { [LABEL_JOB_ID]: idLabel }, ports: [{ name: 'http', port: svc.port, targetPort: svc.port }] },
    };
    return { ...base, deployment, service };
  }

  const jobObj: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(name),
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: o.ttlSecondsAfterFinished ?? 7 * 24 * 3600,
      ...(extra.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: extra.activeDeadlineSeconds } : {}),
      ...(multi ? { completionMode: 'Indexed', completions: job.resources.nodes, parallelism: job.resources.nodes } : {}),
      template: { metadata: { labels: { ...labels }, annotations: { ...annotations } }, spec: podSpec('Never') },
    },
  };
  const headlessService: V1Service | undefined = multi
    ? {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta(name),
        spec: {
          clusterIP: 'None',
          // Ranks must resolve rank 0 before anything is "ready".
          publishNotReadyAddresses: true,
          selector: { [LABEL_JOB_ID]: idLabel },
          ports: [{ name: 'rendezvous', port: masterPort }],
        },
      }
    : undefined;
  return { ...base, job: jobObj, ...(headlessService ? { headlessService } : {}) };
}
