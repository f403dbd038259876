export * from './payload';
export * from './plan';
export * from './producer';
export * from './processor';
