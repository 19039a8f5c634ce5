import { describeAppBin } from '@fulcrum/runtime/testing';
import { STATUS_PORT } from './config.js';

describeAppBin({ app: 'replication-monitor', bin: 'replication-monitor', envPrefix: 'FULCRUM_', service: { statusPort: STATUS_PORT } });
