export * from './policy';
export * from './scheduler';
export * from './requests';
