import { execFileSync } from 'node:child_process';

/** A Python with PyYAML, which accelerate and mergekit read their configs with; undefined when there is none. */
export const pyyaml = ['python3', '/usr/bin/python3'].find((py) => {
  try {
    execFileSync(py, ['-c', 'import yaml'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

/** YAML text as PyYAML's safe_load reads it (only where `pyyaml` is set). */
export function loadYaml(text: string): unknown {
  return JSON.parse(execFileSync(pyyaml!, ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], { input: text, encoding: 'utf8' }));
}
