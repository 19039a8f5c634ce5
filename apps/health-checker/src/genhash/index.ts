export { genhash, parseGenhashUrl, GenhashUrlError, type GenhashOptions, type GenhashResult } from './genhash.js';
export { genhashMain, GENHASH_USAGE } from './cli.js';
