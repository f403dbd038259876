export * from './card';
export * from './engine';
export * from './server';
export * from './checks';
