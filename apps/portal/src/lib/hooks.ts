'use client';

import { useCallback, useEffect, useRef, useState } from 'react';

/** `value`, settled: changes only after it has stayed the same for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/**
 * Calls `fn` now and then every `ms` while `active`, never overlapping calls, pausing while the tab
 * is hidden. The latest result or error is returned; a failed poll keeps the last good data.
 * `refresh` reads at once, between polls.
 */
export function usePoll<T>(fn: () => Promise<T>, ms: number, active: boolean, initial?: T) {
  const [data, setData] = useState<T | undefined>(initial);
  const [error, setError] = useState<unknown>(null);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (stopped) return;
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') {
        timer = setTimeout(tick, ms);
        return;
      }
      try {
        const d = await fnRef.current();
        if (!stopped) {
          setData(d);
          setError(null);
        }
      } catch (e) {
        if (!stopped) setError(e);
      }
      if (!stopped) timer = setTimeout(tick, ms);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [ms, active]);
  /** Reads now, outside the schedule: after a change the page made, so it shows its effect at once. */
  const refresh = useCallback(async () => {
    try {
      setData(await fnRef.current());
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  return { data, error, refresh };
}

/**
 * The current time, ticking every `ms`: durations on a live page ("queued for 3 min") move on
 * between polls. It starts at `initial` (the server's render time), so the first client render
 * matches the server's.
 */
export function useNow(initial: number, ms = 1000): number {
  const [now, setNow] = useState(initial);
  useEffect(() => {
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
