export * from './workers';
export * from './statuses';
export * from './deps';
export * from './evals';
export * from './gpu';
export * from './checks';
export * from './lease';
export * from './suites';
