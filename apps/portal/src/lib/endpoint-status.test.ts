import { describe, expect, it } from 'vitest';
import { endpointStatusBadge } from './endpoint-status';

describe('endpointStatusBadge', () => {
  it('reads a health check, a serving job and a stopped one the same way on every page', () => {
    expect(endpointStatusBadge('ok')).toBe('ok');
    expect(endpointStatusBadge('serving (job cmx123)')).toBe('ok');
    expect(endpointStatusBadge('stopped: stopped by a person')).toBe('cancelled');
    expect(endpointStatusBadge('unreachable: connect ECONNREFUSED 10.0.0.5:8000')).toBe('error');
  });
});
