// The record-file format shared by every stage: gzipped, protobuf-delimited parts + manifest.json.
export * from './framing.ts';
export * from './manifest.ts';
export * from './part-writer.ts';
export * from './dataset-writer.ts';
export * from './reader.ts';
export * from './dataset-lock.ts';
export * from './output-error.ts';
export * from './events-dataset.ts';
export * from './merged-events.ts';
