export * from './payload';
export * from './producer';
export * from './processor';
