export * from './catalog';
export * from './connection';
export * from './producers';
export * from './cancel';
export * from './schedule';
