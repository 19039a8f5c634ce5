export { formatCell, formatTable, median, type Cell } from './table.js';
