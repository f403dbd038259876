/**
 * An endpoint's last status as a badge: a passing health check or a serving job is ok, a served
 * endpoint whose job stopped is cancelled, anything else (a failed check's reason) is an error.
 */
export function endpointStatusBadge(lastStatus: string): 'ok' | 'cancelled' | 'error' {
  if (lastStatus === 'ok' || lastStatus.startsWith('serving')) return 'ok';
  if (lastStatus.startsWith('stopped')) return 'cancelled';
  return 'error';
}
