// s3rver 3.7 ships no types; this is the part of its programmatic API the harness uses.
declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the configured buckets in the data directory without going through HTTP. */
    configureBuckets(): Promise<void>;
    /** The request handler, to mount in one's own HTTP server. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    readonly logger: { close(): void };
  }
}
