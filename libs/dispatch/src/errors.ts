import { DomainError } from '@ctxlab/contracts';

/**
 * Errors the dispatch core throws. `code` is for machines (libs/api maps it to a transport status),
 * `message` is for the person who can fix the input, `field` names the spec field when there is one.
 */
export type DispatchErrorCode =
  /** The job spec is inconsistent or the tool cannot express it. */
  | 'INVALID_SPEC'
  /** vLLM would refuse to start: one max-model-len sequence does not fit the KV cache. */
  | 'WONT_FIT'
  /** The target tool or executor cannot do what the spec asks. */
  | 'UNSUPPORTED'
  /** An artifact URI the command needs cannot be turned into something the tool can open. */
  | 'UNRESOLVED_URI'
  | 'ARTIFACT_NOT_FOUND'
  /** A file:// URI outside the local store's root, or a path that escapes the job directory. */
  | 'OUTSIDE_ROOT'
  /** No artifact store is configured for the URI's scheme (or the bucket does not exist). */
  | 'NO_STORE'
  /** An artifact's bytes do not hash to the SHA-256 recorded for them. */
  | 'DIGEST_MISMATCH'
  /** The object store could not be reached, dropped the connection, timed out or failed (5xx). */
  | 'STORE_UNAVAILABLE'
  /** The object store refused the credentials or the request (401/403). */
  | 'STORE_FORBIDDEN'
  /** The object store answered a request with another error. */
  | 'STORE_ERROR'
  /** No credentials for the object store were configured or found. */
  | 'NO_CREDENTIALS'
  /** The process could not be started. */
  | 'SPAWN_FAILED'
  /** A serve job did not answer its health check in time, or ended before it did. */
  | 'NOT_READY'
  /** Kubernetes rejected a manifest (HTTP 422); `field` is the first field it named. */
  | 'KUBE_INVALID'
  /** An object with the job's name exists but belongs to another ctxlab job. */
  | 'KUBE_CONFLICT'
  | 'KUBE_NOT_FOUND'
  /** 401/403 from the API server. */
  | 'KUBE_FORBIDDEN'
  /** The API server could not be reached or kept failing. */
  | 'KUBE_UNAVAILABLE'
  /** The executor was closed while a handle was following the job (which goes on running on the cluster). */
  | 'DETACHED';

/**
 * Whatever its code, the API answers a DispatchError with BAD_REQUEST; `field` is a spec or
 * manifest path, not the API input's path.
 */
export class DispatchError extends DomainError<DispatchErrorCode> {
  override readonly name = 'DispatchError';
  constructor(
    code: DispatchErrorCode,
    message: string,
    /** The spec field (dotted path) or manifest field the message is about. */
    field?: string,
    options?: { cause?: unknown },
  ) {
    super('BAD_REQUEST', message, field, { ...options, code, fieldIsInput: false });
  }
}
