import { describeAppBin } from '@fulcrum/runtime/testing';
import { STATUS_PORT } from './config.js';

describeAppBin({ app: 'session-store-proxy', bin: 'session-store-proxy', envPrefix: 'FULCRUM_', service: { statusPort: STATUS_PORT } });
