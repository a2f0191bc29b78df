export type * from './config.ts';
export type * from './ports.ts';
export type * from './results.ts';
