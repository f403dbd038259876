export * from './cells-sink';
export * from './sweep';
