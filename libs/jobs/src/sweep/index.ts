export * from './cells-sink';
export * from './sweep';
export * from './stages';
