import { handleTrpcRequest } from '@ctxlab/api';
import { deps } from '../../../../src/server/api';

const handler = (req: Request) => handleTrpcRequest(req, deps());

export { handler as GET, handler as POST };
export const dynamic = 'force-dynamic';
