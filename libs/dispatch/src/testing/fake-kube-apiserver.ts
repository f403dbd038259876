import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Node, Pod, Service } from 'kubernetes-models/v1';

/**
 * A Kubernetes API server double on a real socket (127.0.0.1, HTTP, bearer token), speaking the part
 * of the REST protocol ctxlab's executor uses:
 *
 *   batch/v1 jobs          create, get, list, delete (propagationPolicy Orphan | Background | Foreground)
 *   apps/v1 deployments    create, get, list, delete, patch (merge / strategic-as-merge / JSON patch),
 *                          scale subresource (get, patch, put)
 *   v1 services, configmaps create, get, list, delete, patch
 *   v1 pods                create, get, list, delete, log (follow, timestamps, sinceTime, tailLines)
 *   v1 nodes               get, list (cluster-scoped; tests add them with setNode)
 *
 * Lists, in a namespace or across all of them (/api/v1/pods, /apis/batch/v1/jobs, …), take
 * labelSelector (equality and existence terms), fieldSelector (=, ==, != on the fields the real
 * server supports for the kind; others are a 400 "field label not supported") and limit/continue
 * paging. A pod created through the API starts Pending, as the API server resets a new pod's status;
 * bindPod plays the scheduler.
 *
 * Errors are Status objects with the codes, reasons and messages the real server uses: 401, 404
 * NotFound, 409 AlreadyExists, 422 Invalid (with details.causes[].field), 400 BadRequest (e.g. logs of
 * a pod still waiting to start), 415. Created objects are checked against the OpenAPI schema
 * (kubernetes-models) plus the API server's own rules for names, labels, env names, quantities,
 * restart policies and selectors.
 *
 * Controllers are simulated: a Job gets its pods (Indexed: one per completion index, with the
 * completion-index annotation and label), a Deployment keeps `replicas` pods (directly; ReplicaSets
 * are not modelled), owner references are garbage-collected per the propagation policy (deleting a
 * Job through the API orphans its pods unless told otherwise — as in Kubernetes), Job status and
 * conditions follow pod phases (backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished).
 * Tests play the kubelet: they move pods through phases and append log lines; with `probes`, the
 * fake kubelet runs readiness probes (httpGet) against a real address.
 *
 * Not implemented: watch (answered 400), set-based label selectors, ReplicaSets, resourceVersion
 * conflicts on update, writes to nodes, and the controllers that act on nodes (setNode adds the
 * taints the node lifecycle controller would; pods are neither evicted nor scheduled).
 */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface ResourceType {
  plural: 'jobs' | 'deployments' | 'services' | 'configmaps' | 'pods' | 'nodes';
  group: string;
  apiVersion: string;
  kind: string;
  model?: new (data: Obj) => { validate(): void };
  /** Cluster-scoped kinds are stored under namespace "". */
  clusterScoped?: true;
  /** Fields a fieldSelector may name besides metadata.name (and metadata.namespace, for namespaced kinds), as the object shows them. */
  fields?: Record<string, (o: Obj) => string>;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

const RESOURCES: Record<ResourceType['plural'], ResourceType> = {
  jobs: { plural: 'jobs', group: 'batch', apiVersion: 'batch/v1', kind: 'Job', model: Job as never },
  deployments: { plural: 'deployments', group: 'apps', apiVersion: 'apps/v1', kind: 'Deployment', model: Deployment as never },
  services: { plural: 'services', group: '', apiVersion: 'v1', kind: 'Service', model: Service as never },
  configmaps: { plural: 'configmaps', group: '', apiVersion: 'v1', kind: 'ConfigMap', model: ConfigMap as never },
  pods: {
    plural: 'pods',
    group: '',
    apiVersion: 'v1',
    kind: 'Pod',
    model: Pod as never,
    fields: {
      'spec.nodeName': (p) => str(p.spec?.nodeName),
      'spec.restartPolicy': (p) => str(p.spec?.restartPolicy),
      'spec.schedulerName': (p) => str(p.spec?.schedulerName),
      'spec.serviceAccountName': (p) => str(p.spec?.serviceAccountName),
      'spec.hostNetwork': (p) => String(p.spec?.hostNetwork === true),
      'status.phase': (p) => str(p.status?.phase),
      'status.podIP': (p) => str(p.status?.podIP),
      'status.nominatedNodeName': (p) => str(p.status?.nominatedNodeName),
    },
  },
  nodes: { plural: 'nodes', group: '', apiVersion: 'v1', kind: 'Node', model: Node as never, clusterScoped: true, fields: { 'spec.unschedulable': (n) => String(n.spec?.unschedulable === true) } },
};

export interface FakeKubeOptions {
  /** Bearer token the server requires. Default: a random one (kubeConfig() carries it). */
  token?: string;
  /** Namespaces that exist; requests to others get 404. Default ['default', 'ctxlab']. */
  namespaces?: string[];
  /** Run readiness probes (httpGet) of Running pods against this host, as a kubelet would. */
  probes?: { host: string; intervalMs?: number };
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: unknown;
}

/** A node as a test describes it; setNode makes the Node object the kubelet and node controllers would. */
export interface FakeNode {
  name: string;
  /** Labels besides the kubelet's own (kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch). */
  labels?: Record<string, string>;
  /** nvidia.com/gpu in status.capacity and status.allocatable; 0 or absent: the node has no GPU resource. */
  allocatableGpus?: number;
  /** The Ready condition. Default true; false adds the node.kubernetes.io/not-ready taints. */
  ready?: boolean;
  /** Cordoned (spec.unschedulable); adds the node.kubernetes.io/unschedulable taint. */
  unschedulable?: boolean;
  /** Taints besides the ones the node controller adds, e.g. { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }. */
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

export interface PodTermination {
  exitCode?: number;
  reason?: string;
  message?: string;
}

export interface FakeKubeApiServer {
  readonly url: string;
  readonly token: string;
  /** A KubeConfig for this server, built with KubeConfig.loadFromOptions. */
  kubeConfig(namespace?: string): KubeConfig;
  /** Every request received, in order. */
  readonly requests: FakeRequest[];
  /** Cluster-scoped objects (nodes) are in namespace "". */
  get(plural: ResourceType['plural'], namespace: string, name: string): Obj | undefined;
  list(plural: ResourceType['plural'], namespace: string, labelSelector?: string): Obj[];
  /** Adds a node, or replaces the one with that name (a new resourceVersion; uid and creation time kept). Returns the Node object. */
  setNode(node: FakeNode): Obj;
  removeNode(name: string): void;
  /** Plays the scheduler: binds a pending pod to a node (spec.nodeName, PodScheduled=True). */
  bindPod(namespace: string, name: string, nodeName: string): void;
  /** Resolves with the pods matching the selector once there are at least `count`. */
  waitForPods(namespace: string, labelSelector: string, count?: number, timeoutMs?: number): Promise<Obj[]>;
  /** Plays the kubelet: Running (container started), Succeeded or Failed (container terminated). */
  setPodPhase(namespace: string, name: string, phase: 'Running' | 'Succeeded' | 'Failed', termination?: PodTermination): void;
  setPodReady(namespace: string, name: string, ready: boolean): void;
  /** The scheduler cannot place the pod (PodScheduled=False, reason Unschedulable). */
  setPodUnschedulable(namespace: string, name: string, message: string): void;
  /** The container waits (e.g. ImagePullBackOff, CrashLoopBackOff) — phase stays as is. */
  setContainerWaiting(namespace: string, name: string, reason: string, message?: string, restartCount?: number): void;
  appendLog(namespace: string, pod: string, ...lines: string[]): void;
  /** Ends every open log stream of a pod, as an API server or kubelet restart would. */
  dropLogStreams(namespace: string, pod: string): void;
  /** The next `times` requests matching get this status (e.g. 503) instead of an answer. */
  injectFault(fault: { method?: string; path: RegExp; status: number; times?: number; message?: string }): void;
  /**
   * Calls `fn` right after each answer is written, before the client can act on it: a test moves
   * the cluster on between two of a client's requests. Returns a function that removes the hook.
   */
  afterAnswer(fn: (request: FakeRequest) => void): () => void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Validation, as the API server words it
// ---------------------------------------------------------------------------------------------

interface Cause {
  reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueTooLong';
  message: string;
  field: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[munkMGTPE])?$/;

const invalid = (field: string, value: unknown, detail: string): Cause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
});
const required = (field: string): Cause => ({ reason: 'FieldValueRequired', field, message: 'Required value' });

function checkName(kind: string, name: unknown, causes: Cause[]): void {
  if (typeof name !== 'string' || !name) {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
    return;
  }
  if (kind === 'Service') {
    if (name.length > 63 || !DNS1035_LABEL.test(name)) {
      causes.push(invalid('metadata.name', name, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
    }
  } else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    causes.push(invalid('metadata.name', name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
  } else if (kind === 'Job' && name.length > 63) {
    // The Job controller puts the name in the job-name label of its pods.
    causes.push(invalid('metadata.name', name, 'must be no more than 63 characters'));
  }
}

function checkLabels(field: string, labels: unknown, causes: Cause[]): void {
  if (labels === undefined || labels === null) return;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const slash = k.lastIndexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : '';
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    if ((prefix && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) || name.length > 63 || !LABEL_NAME.test(name)) {
      causes.push(invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push(invalid(`${field}`, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
  }
}

function checkPodSpec(field: string, spec: Obj | undefined, causes: Cause[], allowedRestart: string[] | null): void {
  if (!spec) {
    causes.push(required(field));
    return;
  }
  const containers: Obj[] = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) causes.push(required(`${field}.containers`));
  containers.forEach((c, i) => {
    const cf = `${field}.containers[${i}]`;
    if (typeof c.name !== 'string' || !c.name) causes.push(required(`${cf}.name`));
    else if (c.name.length > 63 || !DNS1123_LABEL.test(c.name)) causes.push(invalid(`${cf}.name`, c.name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"));
    if (typeof c.image !== 'string' || !c.image.trim()) causes.push(required(`${cf}.image`));
    (Array.isArray(c.env) ? c.env : []).forEach((e: Obj, j: number) => {
      if (typeof e.name !== 'string' || !ENV_NAME.test(e.name)) {
        causes.push(invalid(`${cf}.env[${j}].name`, e.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"));
      }
    });
    for (const kind of ['limits', 'requests'] as const) {
      for (const [res, q] of Object.entries((c.resources?.[kind] ?? {}) as Record<string, unknown>)) {
        const f = `${cf}.resources.${kind}[${res}]`;
        if (typeof q !== 'string' && typeof q !== 'number') causes.push(invalid(f, q, 'must be a quantity'));
        else if (!QUANTITY.test(String(q))) causes.push(invalid(f, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        else if (res.includes('/') && !res.includes('kubernetes.io/') && !/^\d+$/.test(String(q))) causes.push(invalid(f, q, 'must be an integer'));
      }
    }
  });
  if (spec.nodeSelector) checkLabels(`${field}.nodeSelector`, spec.nodeSelector, causes);
  if (allowedRestart && spec.restartPolicy !== undefined && !allowedRestart.includes(spec.restartPolicy)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: `${field}.restartPolicy`,
      message: `Unsupported value: ${JSON.stringify(spec.restartPolicy)}: supported values: ${allowedRestart.map((r) => JSON.stringify(r)).join(', ')}`,
    });
  }
}

/** instancePath "/spec/template/spec/containers/0/image" → "spec.template.spec.containers[0].image". */
function jsonPointerToField(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? (acc ? `${acc}.${p}` : p) : `${acc}[${p}]`), '');
}

function validate(rt: ResourceType, obj: Obj): Cause[] {
  const causes: Cause[] = [];
  if (rt.model) {
    try {
      new rt.model(obj).validate();
    } catch (e) {
      const errors = ((e as { errors?: { instancePath: string; message?: string; keyword: string; params?: Obj }[] }).errors ?? []).filter((x) => x.keyword !== 'oneOf');
      for (const x of errors) {
        const base = jsonPointerToField(x.instancePath);
        if (x.keyword === 'required') causes.push(required(base ? `${base}.${x.params?.missingProperty}` : String(x.params?.missingProperty)));
        else causes.push({ reason: 'FieldValueInvalid', field: base, message: `Invalid value: ${x.message ?? 'does not match the schema'}` });
      }
    }
  }
  checkName(rt.kind, obj.metadata?.name, causes);
  checkLabels('metadata.labels', obj.metadata?.labels, causes);
  if (rt.kind === 'Job') {
    checkLabels('spec.template.metadata.labels', obj.spec?.template?.metadata?.labels, causes);
    checkPodSpec('spec.template.spec', obj.spec?.template?.spec, causes, ['OnFailure', 'Never']);
    if (obj.spec?.template?.spec && obj.spec.template.spec.restartPolicy === undefined) {
      causes.push({ reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"' });
    }
    if (obj.spec?.completionMode === 'Indexed' && obj.spec?.completions === undefined) {
      causes.push(required('spec.completions'));
    }
  }
  if (rt.kind === 'Deployment') {
    checkLabels('spec.template.metadata.labels', obj.spec?.template?.metadata?.labels, causes);
    checkPodSpec('spec.template.spec', obj.spec?.template?.spec, causes, ['Always']);
    const sel: Record<string, string> | undefined = obj.spec?.selector?.matchLabels;
    if (!sel || Object.keys(sel).length === 0) causes.push(required('spec.selector'));
    else {
      const tl = obj.spec?.template?.metadata?.labels ?? {};
      if (!Object.entries(sel).every(([k, v]) => tl[k] === v)) {
        causes.push(invalid('spec.template.metadata.labels', tl, '`selector` does not match template `labels`'));
      }
    }
  }
  if (rt.kind === 'Pod') checkPodSpec('spec', obj.spec, causes, ['Always', 'OnFailure', 'Never']);
  if (rt.kind === 'ConfigMap') {
    for (const k of Object.keys(obj.data ?? {})) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k)) causes.push(invalid(`data[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
    }
  }
  return causes;
}

// ---------------------------------------------------------------------------------------------
// Selectors, patches, time
// ---------------------------------------------------------------------------------------------

function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((term) => {
      let m = term.match(/^([^!=]+)!=(.*)$/);
      if (m) return l[m[1]!.trim()] !== m[2]!.trim();
      m = term.match(/^([^=]+)==?(.*)$/);
      if (m) return l[m[1]!.trim()] === m[2]!.trim();
      if (term.startsWith('!')) return !(term.slice(1) in l);
      return term in l;
    });
}

/**
 * A fieldSelector (comma-joined `field=value`, `field==value`, `field!=value` terms) as a filter for
 * objects of `rt`; a string when the real server would refuse it, saying why in its words.
 */
function fieldFilter(rt: ResourceType, selector: string | undefined): ((o: Obj) => boolean) | string {
  const terms: { read: (o: Obj) => string; equal: boolean; value: string }[] = [];
  for (const raw of (selector ?? '').split(',')) {
    const term = raw.trim();
    if (!term) continue;
    const m = term.match(/^([^!=]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) return `invalid selector: '${selector}'; can't understand '${term}'`;
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const read =
      field === 'metadata.name' ? (o: Obj) => str(o.metadata.name) : field === 'metadata.namespace' && !rt.clusterScoped ? (o: Obj) => str(o.metadata.namespace) : rt.fields?.[field];
    if (!read) return `field label not supported: ${field}`;
    terms.push({ read, equal: op !== '!=', value });
  }
  return (o) => terms.every((t) => (t.read(o) === t.value) === t.equal);
}

/** The QoS class the API server gives a new pod, from its containers' CPU and memory requests and limits. */
function qosClass(spec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let any = false;
  let guaranteed = true;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])] as Obj[]) {
    for (const r of ['cpu', 'memory']) {
      const limit = c.resources?.limits?.[r];
      const request = c.resources?.requests?.[r] ?? limit;
      if (request !== undefined) any = true;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Reasons of the Status objects the real server answers each code with. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Obj = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function jsonPatch(target: Obj, ops: Obj[]): Obj {
  const doc = structuredClone(target);
  for (const op of ops) {
    const parts = String(op.path).split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error('empty path');
    let node: Obj = doc;
    for (const p of parts) {
      if (node[p] === undefined) {
        if (op.op === 'add') node[p] = {};
        else throw new Error(`path ${op.path} does not exist`);
      }
      node = node[p];
    }
    if (op.op === 'replace' || op.op === 'add') node[last] = op.value;
    else if (op.op === 'remove') delete node[last];
    else throw new Error(`unsupported JSON patch op "${op.op}"`);
  }
  return doc;
}

let clockNs = 0n;
/** RFC3339Nano timestamps, strictly increasing within this process (log lines need a total order). */
function nowNano(): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  clockNs = now > clockNs ? now : clockNs + 1n;
  const ms = Number(clockNs / 1_000_000n);
  const nanos = (clockNs % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${nanos}Z`);
}

const nowSec = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const rand5 = () => randomBytes(4).toString('hex').slice(0, 5).replace(/^[0-9]/, 'x');

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

interface LogLineRec {
  ts: string;
  text: string;
}
interface Follower {
  res: ServerResponse;
  timestamps: boolean;
}

export async function startFakeKubeApiServer(options: FakeKubeOptions = {}): Promise<FakeKubeApiServer> {
  const token = options.token ?? randomUUID();
  const namespaces = new Set(options.namespaces ?? ['default', 'ctxlab']);
  const store = new Map<string, Obj>(); // `${plural}/${ns}/${name}`
  const logs = new Map<string, LogLineRec[]>(); // `${ns}/${pod}`
  const followers = new Map<string, Set<Follower>>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: FakeRequest[] = [];
  const answered = new Set<(request: FakeRequest) => void>();
  const recorded = new WeakMap<IncomingMessage, FakeRequest>();
  const record = (req: IncomingMessage, r: FakeRequest) => {
    requests.push(r);
    recorded.set(req, r);
  };
  const faults: { method?: string; path: RegExp; status: number; times: number; message?: string }[] = [];
  let rv = 1;

  const key = (plural: string, ns: string, name: string) => `${plural}/${ns}/${name}`;
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    t.unref();
    timers.add(t);
  };
  const bump = (o: Obj) => {
    o.metadata.resourceVersion = String(++rv);
  };
  const all = (plural: string, ns: string) => [...store.entries()].filter(([k]) => k.startsWith(`${plural}/${ns}/`)).map(([, v]) => v);
  const ownedBy = (uid: string) => [...store.entries()].filter(([, o]) => (o.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid));

  // ---- kubelet side: pod phases and logs ----

  function endLogStreams(ns: string, pod: string): void {
    const fs = followers.get(`${ns}/${pod}`);
    if (!fs) return;
    for (const f of fs) f.res.end();
    fs.clear();
  }

  function podTerminal(p: Obj): boolean {
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  }

  function setPodStatus(p: Obj, patch: Obj): void {
    p.status = { ...p.status, ...patch };
    bump(p);
    if (podTerminal(p)) endLogStreams(p.metadata.namespace, p.metadata.name);
    syncOwner(p);
  }

  function containerStatus(p: Obj, state: Obj, ready = false, restartCount = 0): Obj[] {
    return (p.spec.containers as Obj[]).map((c) => ({ name: c.name, image: c.image, ready, started: !!state.running, restartCount, state }));
  }

  // ---- controllers ----

  function makePod(owner: Obj, ownerType: ResourceType, template: Obj, name: string, extra: { labels?: Obj; annotations?: Obj; hostname?: string } = {}): Obj {
    const spec = structuredClone(template.spec ?? {});
    const annotations = { ...(template.metadata?.annotations ?? {}), ...(extra.annotations ?? {}) };
    if (extra.annotations?.['batch.kubernetes.io/job-completion-index'] !== undefined) {
      // The Job controller gives every container the index as JOB_COMPLETION_INDEX.
      for (const c of spec.containers ?? []) {
        c.env = [...(c.env ?? []), { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }];
      }
    }
    if (extra.hostname) spec.hostname = extra.hostname;
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: owner.metadata.namespace,
        uid: randomUUID(),
        creationTimestamp: nowSec(),
        labels: { ...(template.metadata?.labels ?? {}), ...(extra.labels ?? {}) },
        annotations,
        ownerReferences: [{ apiVersion: ownerType.apiVersion, kind: ownerType.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec,
      status: { phase: 'Pending', qosClass: qosClass(spec) },
    };
    bump(pod);
    store.set(key('pods', pod.metadata.namespace, name), pod);
    logs.set(`${pod.metadata.namespace}/${name}`, []);
    return pod;
  }

  function createJobPods(job: Obj, count: number): void {
    const spec = job.spec;
    const indexed = spec.completionMode === 'Indexed';
    const existing = new Set(all('pods', job.metadata.namespace).filter((p) => isOwned(p, job)).map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']));
    for (let i = 0, made = 0; made < count && i < 10_000; i++) {
      if (indexed && existing.has(String(i))) continue;
      const base = { 'batch.kubernetes.io/controller-uid': job.metadata.uid, 'controller-uid': job.metadata.uid, 'batch.kubernetes.io/job-name': job.metadata.name, 'job-name': job.metadata.name };
      if (indexed) {
        makePod(job, RESOURCES.jobs, spec.template, `${job.metadata.name}-${i}-${rand5()}`, {
          labels: { ...base, 'batch.kubernetes.io/job-completion-index': String(i) },
          annotations: { 'batch.kubernetes.io/job-completion-index': String(i) },
          hostname: `${job.metadata.name}-${i}`,
        });
      } else {
        makePod(job, RESOURCES.jobs, spec.template, `${job.metadata.name}-${rand5()}`, { labels: base });
      }
      made++;
    }
  }

  const isOwned = (child: Obj, owner: Obj) => (child.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === owner.metadata.uid);
  const hasCondition = (o: Obj, type: string) => (o.status?.conditions ?? []).some((c: Obj) => c.type === type && c.status === 'True');

  function finishJob(job: Obj, type: 'Complete' | 'Failed', reason: string, message: string): void {
    const t = nowSec();
    const interim = type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget';
    job.status.conditions = [
      ...(job.status.conditions ?? []),
      { type: interim, status: 'True', reason, message, lastProbeTime: t, lastTransitionTime: t },
      { type, status: 'True', reason, message, lastProbeTime: t, lastTransitionTime: t },
    ];
    if (type === 'Complete') job.status.completionTime = t;
    // A finished Job's remaining pods are terminated.
    for (const p of all('pods', job.metadata.namespace).filter((p) => isOwned(p, job) && !podTerminal(p))) {
      deleteObject('pods', p, 'Background');
    }
    job.status.active = 0;
    job.status.ready = 0;
    bump(job);
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (typeof ttl === 'number') later(ttl * 1000, () => store.get(key('jobs', job.metadata.namespace, job.metadata.name)) === job && deleteObject('jobs', job, 'Background'));
  }

  function syncJob(job: Obj): void {
    if (job.metadata.deletionTimestamp || hasCondition(job, 'Complete') || hasCondition(job, 'Failed')) return;
    const pods = all('pods', job.metadata.namespace).filter((p) => isOwned(p, job));
    const succeeded = pods.filter((p) => p.status.phase === 'Succeeded').length;
    const failed = pods.filter((p) => p.status.phase === 'Failed').length;
    const active = pods.filter((p) => !podTerminal(p)).length;
    const completions = job.spec.completions ?? 1;
    job.status = {
      ...job.status,
      active,
      ready: pods.filter((p) => hasCondition(p, 'Ready')).length,
      succeeded,
      failed,
      ...(pods.some((p) => p.status.phase !== 'Pending') && !job.status.startTime ? { startTime: nowSec() } : {}),
    };
    bump(job);
    const backoffLimit = job.spec.backoffLimit ?? 6;
    if (failed > backoffLimit) finishJob(job, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    else if (succeeded >= completions) finishJob(job, 'Complete', 'CompletionsReached', 'Reached expected number of succeeded pods');
    else if (failed > 0 && active + succeeded < (job.spec.parallelism ?? 1)) createJobPods(job, (job.spec.parallelism ?? 1) - active - succeeded);
  }

  function reconcileDeployment(d: Obj): void {
    if (d.metadata.deletionTimestamp) return;
    const want = d.spec.replicas ?? 1;
    const pods = all('pods', d.metadata.namespace).filter((p) => isOwned(p, d) && !p.metadata.deletionTimestamp);
    const hash = String(d.metadata.uid).replace(/-/g, '').slice(0, 10);
    for (let i = pods.length; i < want; i++) {
      makePod(d, RESOURCES.deployments, d.spec.template, `${d.metadata.name}-${hash}-${rand5()}`, { labels: { 'pod-template-hash': hash } });
    }
    for (const p of pods.slice(want)) deleteObject('pods', p, 'Background');
    syncDeploymentStatus(d);
  }

  function syncDeploymentStatus(d: Obj): void {
    const pods = all('pods', d.metadata.namespace).filter((p) => isOwned(p, d));
    const ready = pods.filter((p) => hasCondition(p, 'Ready')).length;
    const want = d.spec.replicas ?? 1;
    d.status = {
      observedGeneration: d.metadata.generation,
      replicas: pods.length,
      updatedReplicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(pods.length - ready > 0 ? { unavailableReplicas: pods.length - ready } : {}),
      conditions: [
        { type: 'Available', status: ready >= want ? 'True' : 'False', reason: ready >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', lastTransitionTime: nowSec() },
      ],
    };
    bump(d);
  }

  function syncOwner(pod: Obj): void {
    for (const ref of pod.metadata.ownerReferences ?? []) {
      const plural = ref.kind === 'Job' ? 'jobs' : ref.kind === 'Deployment' ? 'deployments' : null;
      if (!plural) continue;
      const owner = store.get(key(plural, pod.metadata.namespace, ref.name));
      if (!owner || owner.metadata.uid !== ref.uid) continue;
      if (plural === 'jobs') syncJob(owner);
      else syncDeploymentStatus(owner);
    }
  }

  /** Deletes per the propagation policy; dependents go through the garbage collector (a few ms later). */
  function deleteObject(plural: ResourceType['plural'], obj: Obj, policy: 'Orphan' | 'Background' | 'Foreground'): Obj {
    const ns = obj.metadata.namespace;
    const k = key(plural, ns, obj.metadata.name);
    const removeNow = () => {
      if (store.get(k) !== obj) return;
      store.delete(k);
      if (plural === 'pods') {
        endLogStreams(ns, obj.metadata.name);
        syncOwner(obj);
      }
    };
    const dependents = () => ownedBy(obj.metadata.uid).map(([dk, d]) => ({ plural: dk.split('/')[0] as ResourceType['plural'], d }));
    if (policy === 'Orphan') {
      for (const { d } of dependents()) {
        d.metadata.ownerReferences = (d.metadata.ownerReferences as Obj[]).filter((r) => r.uid !== obj.metadata.uid);
        bump(d);
      }
      removeNow();
      return obj;
    }
    if (policy === 'Background') {
      removeNow();
      later(5, () => {
        for (const { plural: p, d } of dependents()) deleteObject(p, d, 'Background');
      });
      return obj;
    }
    // Foreground: the owner stays, marked, until its blocking dependents are gone.
    obj.metadata.deletionTimestamp = nowSec();
    obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), 'foregroundDeletion'];
    bump(obj);
    const removeWhenDependentsGone = () => {
      if (dependents().length === 0) removeNow();
      else later(5, removeWhenDependentsGone);
    };
    later(5, () => {
      for (const { plural: p, d } of dependents()) if (!d.metadata.deletionTimestamp) deleteObject(p, d, 'Foreground');
      removeWhenDependentsGone();
    });
    return obj;
  }

  // ---- HTTP ----

  function send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function status(res: ServerResponse, code: number, reason: string, message: string, details?: Obj): void {
    send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  }

  const qualified = (rt: ResourceType) => (rt.group ? `${rt.plural}.${rt.group}` : rt.plural);

  /**
   * A list answer: the items that match the label and field selectors; with `limit`, one page, in
   * the real server's order (namespace, then name), and a continue token when more follow. Without
   * it the fake keeps creation order, which tests of the executor have always seen.
   */
  function sendList(res: ServerResponse, rt: ResourceType, items: Obj[], q: Record<string, string>): void {
    const fields = fieldFilter(rt, q.fieldSelector);
    if (typeof fields === 'string') {
      const resource = `${rt.group}/${rt.apiVersion.split('/').pop()}, Resource=${rt.plural}`;
      return status(res, 400, 'BadRequest', `Unable to find "${resource}" that match label selector "${q.labelSelector ?? ''}", field selector "${q.fieldSelector}": ${fields}`);
    }
    let page = items.filter((o) => matchesSelector(o.metadata.labels, q.labelSelector) && fields(o));
    const metadata: Obj = { resourceVersion: String(rv) };
    const limit = Number(q.limit ?? 0);
    if (q.continue || (Number.isInteger(limit) && limit > 0)) {
      const order = (o: Obj) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      page.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
      if (q.continue) {
        let start: unknown;
        try {
          start = (JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8')) as Obj).start;
        } catch {
          start = undefined;
        }
        if (typeof start !== 'string') return status(res, 400, 'BadRequest', `continue key is not valid: ${q.continue}`);
        page = page.filter((o) => order(o) >= start);
      }
      if (limit > 0 && page.length > limit) {
        metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: order(page[limit]!) })).toString('base64url');
        page = page.slice(0, limit);
      }
    }
    send(res, 200, { apiVersion: rt.apiVersion, kind: `${rt.kind}List`, metadata, items: page });
  }
  const notFound = (res: ServerResponse, rt: ResourceType, name: string) =>
    status(res, 404, 'NotFound', `${qualified(rt)} "${name}" not found`, { name, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural });

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function scaleOf(d: Obj): Obj {
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: d.metadata.name, namespace: d.metadata.namespace, uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
      spec: { replicas: d.spec.replicas ?? 1 },
      status: { replicas: d.status?.replicas ?? 0, selector: Object.entries(d.spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
    };
  }

  function serveLog(req: IncomingMessage, res: ServerResponse, ns: string, name: string, q: Record<string, string>): void {
    const pod = store.get(key('pods', ns, name));
    if (!pod) return notFound(res, RESOURCES.pods, name);
    const names = (pod.spec.containers as Obj[]).map((c) => c.name);
    const container = q.container;
    if (!container && names.length > 1) return status(res, 400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
    const cname = container ?? names[0];
    if (!names.includes(cname)) return status(res, 400, 'BadRequest', `container ${cname} is not valid for pod ${name}`);
    if (pod.status.phase === 'Pending') {
      const waiting = pod.status.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating';
      return status(res, 400, 'BadRequest', `container "${cname}" in pod "${name}" is waiting to start: ${waiting}`);
    }
    const timestamps = q.timestamps === 'true';
    const since = q.sinceTime ? Date.parse(q.sinceTime) : undefined;
    let lines = (logs.get(`${ns}/${name}`) ?? []).filter((l) => since === undefined || Date.parse(l.ts) >= since);
    if (q.tailLines) lines = lines.slice(-Number(q.tailLines));
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    for (const l of lines) res.write(timestamps ? `${l.ts} ${l.text}\n` : `${l.text}\n`);
    if (q.follow === 'true' && !podTerminal(pod)) {
      const f: Follower = { res, timestamps };
      const set = followers.get(`${ns}/${name}`) ?? new Set();
      followers.set(`${ns}/${name}`, set);
      set.add(f);
      req.on('close', () => set.delete(f));
      return;
    }
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const q = Object.fromEntries(url.searchParams.entries());
    const raw = method === 'GET' ? '' : await readBody(req);
    let body: unknown = undefined;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        record(req, { method, path: url.pathname, query: q, contentType: req.headers['content-type'], body: raw });
        return status(res, 400, 'BadRequest', `the request body is not JSON: ${raw.slice(0, 80)}`);
      }
    }
    record(req, { method, path: url.pathname, query: q, contentType: req.headers['content-type'], body });

    if (req.headers.authorization !== `Bearer ${token}`) return status(res, 401, 'Unauthorized', 'Unauthorized');

    const fault = faults.find((f) => f.path.test(url.pathname) && (!f.method || f.method === method) && f.times > 0);
    if (fault) {
      fault.times--;
      return status(res, fault.status, REASONS[fault.status] ?? 'InternalError', fault.message ?? 'injected fault');
    }
    if (url.pathname === '/version') return send(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-ctxlab-fake' });
    const watching = q.watch === 'true' || q.watch === '1';
    const noWatch = () => status(res, 400, 'BadRequest', 'watch is not implemented by the fake API server; poll instead');
    const notAllowed = () => status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

    const nodePath = url.pathname.match(/^\/api\/v1\/nodes(?:\/([^/]+))?$/);
    if (nodePath) {
      if (watching) return noWatch();
      if (method !== 'GET') return notAllowed();
      const nodeName = nodePath[1];
      if (!nodeName) return sendList(res, RESOURCES.nodes, all('nodes', ''), q);
      const node = store.get(key('nodes', '', nodeName));
      return node ? send(res, 200, node) : notFound(res, RESOURCES.nodes, nodeName);
    }
    // Lists across namespaces: /api/v1/pods, /apis/batch/v1/jobs, …
    const everywhere = url.pathname.match(/^\/(?:api\/v1|apis\/(?:batch|apps)\/v1)\/(pods|services|configmaps|jobs|deployments)$/);
    if (everywhere) {
      const rt = RESOURCES[everywhere[1] as ResourceType['plural']];
      if (url.pathname !== `${rt.group ? `/apis/${rt.apiVersion}` : '/api/v1'}/${rt.plural}`) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
      if (watching) return noWatch();
      if (method !== 'GET') return notAllowed();
      return sendList(res, rt, [...store.entries()].filter(([k]) => k.startsWith(`${rt.plural}/`)).map(([, o]) => o), q);
    }

    const m =
      url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/(pods|services|configmaps)(?:\/([^/]+))?(?:\/(log|status))?$/) ??
      url.pathname.match(/^\/apis\/(?:batch|apps)\/v1\/namespaces\/([^/]+)\/(jobs|deployments)(?:\/([^/]+))?(?:\/(status|scale))?$/);
    if (!m) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const [, ns, plural, name, sub] = m as unknown as [string, string, ResourceType['plural'], string | undefined, string | undefined];
    const rt = RESOURCES[plural];
    if (url.pathname.startsWith('/apis/') && !url.pathname.startsWith(`/apis/${rt.apiVersion}/`)) {
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    if (!namespaces.has(ns)) return status(res, 404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    if (watching) return noWatch();

    if (!name) {
      if (method === 'GET') return sendList(res, rt, all(plural, ns), q);
      if (method !== 'POST') return status(res, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      const obj = structuredClone(body) as Obj;
      if (!obj || typeof obj !== 'object') return status(res, 400, 'BadRequest', 'the request body must be an object');
      if (obj.kind !== rt.kind || obj.apiVersion !== rt.apiVersion) {
        return status(res, 400, 'BadRequest', `the API version in the data (${obj.apiVersion}) does not match the expected API version (${rt.apiVersion}) or kind ${obj.kind} is not ${rt.kind}`);
      }
      obj.metadata ??= {};
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        return status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${rand5()}`;
      const causes = validate(rt, obj);
      const objName = String(obj.metadata.name ?? '');
      if (causes.length) {
        const what = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
        return status(res, 422, 'Invalid', `${what} "${objName}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
          name: objName,
          ...(rt.group ? { group: rt.group } : {}),
          kind: rt.kind,
          causes,
        });
      }
      if (store.has(key(plural, ns, objName))) {
        return status(res, 409, 'AlreadyExists', `${qualified(rt)} "${objName}" already exists`, { name: objName, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural });
      }
      obj.metadata = { ...obj.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: nowSec(), generation: 1 };
      if (plural === 'pods') {
        // The API server ignores a new pod's status and gives it its own, with the defaults a pod spec gets.
        obj.spec = { restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', ...obj.spec };
        obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) };
      }
      bump(obj);
      if (q.dryRun === 'All') return send(res, 201, obj);
      store.set(key(plural, ns, objName), obj);
      if (plural === 'pods') logs.set(`${ns}/${objName}`, []);
      if (plural === 'jobs') {
        const uid = obj.metadata.uid;
        obj.spec.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
        obj.spec.template.metadata ??= {};
        obj.spec.template.metadata.labels = { ...obj.spec.template.metadata.labels, 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid, 'batch.kubernetes.io/job-name': objName, 'job-name': objName };
        obj.spec.completions ??= 1;
        obj.spec.parallelism ??= 1;
        obj.spec.backoffLimit ??= 6;
        obj.status = {};
        if (!obj.spec.suspend) createJobPods(obj, obj.spec.parallelism);
        if (typeof obj.spec.activeDeadlineSeconds === 'number') {
          later(obj.spec.activeDeadlineSeconds * 1000, () => {
            if (store.get(key('jobs', ns, objName)) === obj && !hasCondition(obj, 'Complete') && !hasCondition(obj, 'Failed') && !obj.metadata.deletionTimestamp) {
              finishJob(obj, 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
            }
          });
        }
      }
      if (plural === 'deployments') {
        obj.spec.replicas ??= 1;
        reconcileDeployment(obj);
      }
      if (plural === 'services' && obj.spec?.clusterIP !== 'None') obj.spec = { ...obj.spec, clusterIP: `10.96.${rv % 250}.${(rv * 7) % 250}` };
      return send(res, 201, obj);
    }

    const obj = store.get(key(plural, ns, name));
    if (sub === 'log') {
      if (method !== 'GET' || plural !== 'pods') return status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      return serveLog(req, res, ns, name, q);
    }
    if (!obj) return notFound(res, rt, name);

    if (sub === 'scale') {
      if (plural !== 'deployments') return status(res, 404, 'NotFound', 'the server could not find the requested resource');
      if (method === 'GET') return send(res, 200, scaleOf(obj));
      let replicas: unknown;
      try {
        if (method === 'PUT') replicas = (body as Obj)?.spec?.replicas;
        else if (method === 'PATCH') {
          const ct = String(req.headers['content-type'] ?? '').split(';')[0];
          if (ct === 'application/json-patch+json') replicas = jsonPatch(scaleOf(obj), body as Obj[]).spec?.replicas;
          else if (ct === 'application/merge-patch+json' || ct === 'application/strategic-merge-patch+json') replicas = (mergePatch(scaleOf(obj), body) as Obj).spec?.replicas;
          else return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        } else return status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      } catch (e) {
        return status(res, 422, 'Invalid', `Scale.autoscaling "${name}" is invalid: ${(e as Error).message}`);
      }
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        return status(res, 422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
          name,
          group: 'autoscaling',
          kind: 'Scale',
          causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas' }],
        });
      }
      obj.spec.replicas = replicas;
      obj.metadata.generation++;
      bump(obj);
      reconcileDeployment(obj);
      return send(res, 200, scaleOf(obj));
    }

    if (method === 'GET') return send(res, 200, obj);
    if (method === 'DELETE') {
      const opts = (body ?? {}) as Obj;
      const policy = (q.propagationPolicy ?? opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : undefined) ?? (plural === 'jobs' ? 'Orphan' : 'Background')) as 'Orphan' | 'Background' | 'Foreground';
      if (!['Orphan', 'Background', 'Foreground'].includes(policy)) {
        return status(res, 400, 'BadRequest', `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
      }
      const deleted = deleteObject(plural, obj, policy);
      if (policy === 'Foreground') return send(res, 200, deleted);
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(rt.group ? { group: rt.group } : {}), kind: plural, uid: obj.metadata.uid } });
    }
    if (method === 'PATCH' && sub === undefined && plural !== 'pods' && plural !== 'jobs') {
      const ct = String(req.headers['content-type'] ?? '').split(';')[0];
      let next: Obj;
      try {
        if (ct === 'application/json-patch+json') next = jsonPatch(obj, body as Obj[]);
        else if (ct === 'application/merge-patch+json' || ct === 'application/strategic-merge-patch+json') next = mergePatch(obj, body) as Obj;
        else return status(res, 415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
      } catch (e) {
        return status(res, 422, 'Invalid', `${rt.kind} "${name}" is invalid: ${(e as Error).message}`);
      }
      const causes = validate(rt, next);
      if (causes.length) {
        return status(res, 422, 'Invalid', `${rt.kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, { name, kind: rt.kind, causes });
      }
      Object.assign(obj, next, { metadata: { ...next.metadata, uid: obj.metadata.uid, name: obj.metadata.name, namespace: ns } });
      if (plural === 'deployments') {
        obj.metadata.generation++;
        reconcileDeployment(obj);
      }
      bump(obj);
      return send(res, 200, obj);
    }
    return status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res)
      .catch((e: unknown) => {
        if (!res.headersSent) status(res, 500, 'InternalError', `fake API server: ${(e as Error).message}`);
        else res.destroy();
      })
      .then(() => {
        const r = recorded.get(req);
        if (r) for (const fn of answered) fn(r);
      });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // ---- fake kubelet: readiness probes ----
  let probing = false;
  const prober = options.probes
    ? setInterval(() => {
        if (probing) return;
        probing = true;
        const pods = [...store.entries()].filter(([k]) => k.startsWith('pods/')).map(([, p]) => p).filter((p) => p.status.phase === 'Running');
        void Promise.all(
          pods.map(async (p) => {
            const probe = (p.spec.containers as Obj[])[0]?.readinessProbe?.httpGet;
            if (!probe) return;
            let ok = false;
            try {
              const r = await fetch(`http://${options.probes!.host}:${probe.port}${probe.path ?? '/'}`, { signal: AbortSignal.timeout(1000) });
              await r.arrayBuffer();
              ok = r.status >= 200 && r.status < 400;
            } catch {
              ok = false;
            }
            if (store.get(key('pods', p.metadata.namespace, p.metadata.name)) === p && p.status.phase === 'Running' && hasCondition(p, 'Ready') !== ok) api.setPodReady(p.metadata.namespace, p.metadata.name, ok);
          }),
        ).finally(() => (probing = false));
      }, options.probes.intervalMs ?? 50)
    : undefined;
  prober?.unref();

  /** The Node object a kubelet would register for `n`, with the taints the node lifecycle controller adds. */
  function nodeObject(n: FakeNode, prev: Obj | undefined): Obj {
    const at = nowSec();
    const ready = n.ready ?? true;
    const gpu = n.allocatableGpus ? { 'nvidia.com/gpu': String(n.allocatableGpus) } : {};
    const taints = [
      ...(n.taints ?? []),
      ...(ready ? [] : (['NoSchedule', 'NoExecute'] as const).map((effect) => ({ key: 'node.kubernetes.io/not-ready', effect, timeAdded: at }))),
      ...(n.unschedulable ? [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: at }] : []),
    ];
    const index = prev?.spec.podCIDR ? Number(prev.spec.podCIDR.split('.')[2]) : all('nodes', '').length;
    const condition = (type: string, status: string, reason: string, message: string) => {
      const before = ((prev?.status.conditions ?? []) as Obj[]).find((c) => c.type === type);
      return { type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: before?.status === status ? before.lastTransitionTime : at };
    };
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        uid: prev?.metadata.uid ?? randomUUID(),
        creationTimestamp: prev?.metadata.creationTimestamp ?? at,
        labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', ...n.labels },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      },
      spec: {
        podCIDR: `10.244.${index}.0/24`,
        podCIDRs: [`10.244.${index}.0/24`],
        ...(n.unschedulable ? { unschedulable: true } : {}),
        ...(taints.length ? { taints } : {}),
      },
      status: {
        capacity: { cpu: '96', 'ephemeral-storage': '1966788624Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '2113442300Ki', pods: '110', ...gpu },
        allocatable: { cpu: '95690m', 'ephemeral-storage': '1812586764474', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '2102034428Ki', pods: '110', ...gpu },
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          ready
            ? condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
            : condition('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized'),
        ],
        addresses: [
          { type: 'InternalIP', address: `10.0.${Math.floor(index / 250)}.${(index % 250) + 1}` },
          { type: 'Hostname', address: n.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          architecture: 'amd64',
          bootID: prev?.status.nodeInfo.bootID ?? randomUUID(),
          containerRuntimeVersion: 'containerd://1.7.22',
          kernelVersion: '5.15.0-1071-aws',
          kubeProxyVersion: 'v1.31.0',
          kubeletVersion: 'v1.31.0',
          machineID: prev?.status.nodeInfo.machineID ?? randomBytes(16).toString('hex'),
          operatingSystem: 'linux',
          osImage: 'Ubuntu 22.04.5 LTS',
          systemUUID: prev?.status.nodeInfo.systemUUID ?? randomUUID(),
        },
      },
    };
  }

  function mustPod(ns: string, name: string): Obj {
    const p = store.get(key('pods', ns, name));
    if (!p) throw new Error(`fake kube: no pod ${ns}/${name}`);
    return p;
  }

  const api: FakeKubeApiServer = {
    url,
    token,
    requests,
    kubeConfig(namespace = 'ctxlab') {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'ctxlab-worker', token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'ctxlab-worker', namespace }],
        currentContext: 'fake',
      });
      return kc;
    },
    get: (plural, ns, name) => store.get(key(plural, ns, name)),
    list: (plural, ns, selector) => all(plural, ns).filter((o) => matchesSelector(o.metadata.labels, selector)),
    setNode(n) {
      const prev = store.get(key('nodes', '', n.name));
      const node = nodeObject(n, prev);
      const causes = validate(RESOURCES.nodes, node);
      if (causes.length) throw new Error(`fake kube: node ${n.name} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`);
      bump(node);
      store.set(key('nodes', '', n.name), node);
      return node;
    },
    removeNode(name) {
      if (!store.delete(key('nodes', '', name))) throw new Error(`fake kube: no node ${name}`);
    },
    bindPod(ns, name, nodeName) {
      const p = mustPod(ns, name);
      if (!store.has(key('nodes', '', nodeName))) throw new Error(`fake kube: no node ${nodeName}`);
      if (p.spec.nodeName) throw new Error(`fake kube: pod ${ns}/${name} is already bound to ${p.spec.nodeName}`);
      p.spec.nodeName = nodeName;
      const conditions = ((p.status.conditions ?? []) as Obj[]).filter((c) => c.type !== 'PodScheduled');
      setPodStatus(p, { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: nowSec() }, ...conditions] });
    },
    async waitForPods(ns, selector, count = 1, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const pods = all('pods', ns).filter((o) => matchesSelector(o.metadata.labels, selector) && !o.metadata.deletionTimestamp);
        if (pods.length >= count) return pods;
        if (Date.now() > deadline) throw new Error(`fake kube: ${pods.length} pods match ${selector} after ${timeoutMs} ms, wanted ${count}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    setPodPhase(ns, name, phase, t = {}) {
      const p = mustPod(ns, name);
      const at = nowSec();
      if (phase === 'Running') {
        setPodStatus(p, {
          phase,
          podIP: '127.0.0.1',
          startTime: p.status.startTime ?? at,
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
            { type: 'Initialized', status: 'True', lastTransitionTime: at },
            { type: 'ContainersReady', status: 'False', lastTransitionTime: at },
            { type: 'Ready', status: 'False', lastTransitionTime: at },
          ],
          containerStatuses: containerStatus(p, { running: { startedAt: at } }),
        });
        return;
      }
      const exitCode = t.exitCode ?? (phase === 'Succeeded' ? 0 : 1);
      setPodStatus(p, {
        phase,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
          { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: at },
        ],
        containerStatuses: containerStatus(p, {
          terminated: { exitCode, reason: t.reason ?? (exitCode === 0 ? 'Completed' : 'Error'), ...(t.message ? { message: t.message } : {}), startedAt: p.status.startTime ?? at, finishedAt: at },
        }),
      });
    },
    setPodReady(ns, name, ready) {
      const p = mustPod(ns, name);
      const at = nowSec();
      const conditions = (p.status.conditions ?? []).filter((c: Obj) => c.type !== 'Ready' && c.type !== 'ContainersReady');
      setPodStatus(p, {
        conditions: [...conditions, { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: at }, { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: at }],
        containerStatuses: (p.status.containerStatuses ?? []).map((c: Obj) => ({ ...c, ready })),
      });
    },
    setPodUnschedulable(ns, name, message) {
      const p = mustPod(ns, name);
      setPodStatus(p, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: nowSec() }] });
    },
    setContainerWaiting(ns, name, reason, message, restartCount = 0) {
      const p = mustPod(ns, name);
      setPodStatus(p, { containerStatuses: containerStatus(p, { waiting: { reason, ...(message ? { message } : {}) } }, false, restartCount) });
    },
    appendLog(ns, pod, ...lines) {
      mustPod(ns, pod);
      const buf = logs.get(`${ns}/${pod}`) ?? [];
      logs.set(`${ns}/${pod}`, buf);
      for (const text of lines) {
        const rec = { ts: nowNano(), text };
        buf.push(rec);
        for (const f of followers.get(`${ns}/${pod}`) ?? []) f.res.write(f.timestamps ? `${rec.ts} ${rec.text}\n` : `${rec.text}\n`);
      }
    },
    dropLogStreams: (ns, pod) => endLogStreams(ns, pod),
    afterAnswer(fn) {
      answered.add(fn);
      return () => answered.delete(fn);
    },
    injectFault(f) {
      faults.push({ times: 1, ...f });
    },
    async close() {
      if (prober) clearInterval(prober);
      for (const t of timers) clearTimeout(t);
      for (const set of followers.values()) for (const f of set) f.res.destroy();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
  return api;
}
