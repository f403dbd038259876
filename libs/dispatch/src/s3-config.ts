import { DispatchError } from './errors';
import { parseS3Prefix } from './uri';

/** Static S3 credentials (an access key, or temporary credentials with their session token). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where an S3ArtifactStore keeps artifacts and how it reaches them. */
export interface S3StoreConfig {
  bucket: string;
  /** Key prefix under which new artifacts are minted, without slashes at either end; '' or absent: the bucket's root. */
  prefix?: string;
  /** An S3-compatible endpoint (http://127.0.0.1:9000); absent: AWS's regional endpoint. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (endpoint/bucket/key), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /**
   * Absent: the SDK's default chain (a profile, a web-identity or container role), which reads the
   * process environment and ~/.aws itself.
   */
  credentials?: S3Credentials;
  /** Tries per request, retries included (the SDK backs off between them); default 3. */
  maxAttempts?: number;
}

/** What to do about missing credentials; every "no credentials" message ends with it. */
export const S3_CREDENTIALS_HELP =
  'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), ' +
  'or AWS_PROFILE to use a profile from ~/.aws/config (an EC2 instance role: a profile with credential_source = Ec2InstanceMetadata), ' +
  'or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (a Kubernetes service-account role)';

// Variables that tell the SDK's default chain where to find credentials other than static keys.
const CHAIN_SOURCES = ['AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];

type Env = Readonly<Record<string, string | undefined>>;

const setting = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

function endpointFrom(env: Env): string | undefined {
  const name = setting(env, 'AWS_ENDPOINT_URL_S3') ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
  const value = setting(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DispatchError('INVALID_SPEC', `${name}="${value}" is not a URL: expected e.g. https://s3.example.com or http://127.0.0.1:9000`, name);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DispatchError('INVALID_SPEC', `${name}="${value}" must be an http:// or https:// URL`, name);
  }
  return value.replace(/\/+$/, '');
}

function flag(env: Env, name: string): boolean | undefined {
  const v = setting(env, name)?.toLowerCase();
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new DispatchError('INVALID_SPEC', `${name}="${env[name]}" must be true, false, 1 or 0`, name);
}

function credentialsFrom(env: Env, bucketUri: string): S3Credentials | undefined {
  const accessKeyId = setting(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = setting(env, 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = setting(env, 'AWS_SESSION_TOKEN');
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  if (accessKeyId || secretAccessKey) {
    const [set, unset] = accessKeyId ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] : ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
    throw new DispatchError('NO_CREDENTIALS', `S3 credentials for ${bucketUri}: ${set} is set but ${unset} is not; set both`, unset);
  }
  if (CHAIN_SOURCES.some((name) => setting(env, name))) return undefined;
  throw new DispatchError('NO_CREDENTIALS', `no S3 credentials for ${bucketUri}: ${S3_CREDENTIALS_HELP}`, 'AWS_ACCESS_KEY_ID');
}

/**
 * The store's configuration from the usual variables: CTXLAB_ARTIFACT_BUCKET (s3://bucket,
 * s3://bucket/prefix or a bare bucket name; required), AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION or
 * AWS_DEFAULT_REGION (default us-east-1), AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 * CTXLAB_S3_FORCE_PATH_STYLE (true/1). Without keys, a profile or role named by AWS_PROFILE,
 * AWS_WEB_IDENTITY_TOKEN_FILE or AWS_CONTAINER_CREDENTIALS_* is left to the SDK; with none of
 * these it throws NO_CREDENTIALS naming the variables to set.
 */
export function s3ConfigFromEnv(env: Env): S3StoreConfig {
  const location = setting(env, 'CTXLAB_ARTIFACT_BUCKET');
  if (!location) throw new DispatchError('NO_STORE', 'CTXLAB_ARTIFACT_BUCKET is not set: set it to s3://bucket or s3://bucket/prefix', 'CTXLAB_ARTIFACT_BUCKET');
  // A bare bucket name (what Terraform's storage module outputs) means its root.
  const { bucket, prefix } = parseS3Prefix(location.startsWith('s3://') ? location : `s3://${location}`, 'CTXLAB_ARTIFACT_BUCKET');
  const endpoint = endpointFrom(env);
  const forcePathStyle = flag(env, 'CTXLAB_S3_FORCE_PATH_STYLE');
  const credentials = credentialsFrom(env, `s3://${bucket}`);
  return {
    bucket,
    prefix,
    region: setting(env, 'AWS_REGION') ?? setting(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
    ...(credentials ? { credentials } : {}),
  };
}
