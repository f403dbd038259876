export * from './common';
export * from './errors';
export * from './model';
export * from './recipe';
export * from './entities';
export * from './planner';
export * from './niah';
export * from './capacity';
