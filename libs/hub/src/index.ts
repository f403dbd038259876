// Hugging Face interop: reading a model or adapter from its files, and writing its model card.
export * from './import';
export * from './card';
