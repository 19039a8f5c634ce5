// Text formats: ipvsadm's (restore input, `ipvsadm-save -n` output, `ipvsadm -Ln` listings,
// single command lines) from src/ipvsadm/, keepalived.conf from src/keepalived/.
export { applyIpvsadmOperations, type ApplyResult } from './ipvsadm/apply.js';
export { formatIpvsadmCommand } from './ipvsadm/command.js';
export { describeServiceKey } from './ipvsadm/describe.js';
export { IpvsadmFormatError, IpvsadmRestoreError, describeIssue, type IpvsadmIssue } from './ipvsadm/errors.js';
export { canonicalAddress, formatAddressPort } from './ipvsadm/inet.js';
export {
  formatIpvsadmList,
  formatLargeNumber,
  listedTable,
  type IpvsadmListView,
  type ListOptions,
  type ListedDestination,
  type ListedService,
  type ListedTable,
} from './ipvsadm/list.js';
export type { IpvsServiceSettings, IpvsadmOperation, LocatedOperation, SourcePosition } from './ipvsadm/operation.js';
export { DEFAULT_PERSISTENCE_TIMEOUT, MAX_PERSISTENCE_TIMEOUT, PERSISTENCE_ENGINES } from './ipvsadm/parse-command.js';
export { parseIpvsadmCommands, parseIpvsadmRestore, type IpvsadmRestore } from './ipvsadm/restore.js';
export { formatIpvsadmSave, type SaveOptions } from './ipvsadm/save.js';
export { sortDestinationsLikeIpvsadm, sortServicesLikeIpvsadm } from './ipvsadm/sort.js';
export * from './keepalived/index.js';
