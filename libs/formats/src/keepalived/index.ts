export { KeepalivedSyntaxError, parseKeepalivedConf, type ConfNode, type ParseOptions, type Position } from './parse.js';
export {
  KeepalivedImportError,
  importKeepalivedConf,
  slugify,
  virtualServiceIdFor,
  type ImportOptions,
  type KeepalivedImport,
  type KeepalivedWarning,
} from './import.js';
export { printKeepalivedConf, type PrintOptions } from './print.js';
export { MAX_INCLUDED_FILES, expandBraces, globMatches, includeFromFiles, includePattern, type IncludeWarning } from './include.js';
