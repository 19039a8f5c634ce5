import { describeAppBin } from '@fulcrum/runtime/testing';
import { STATUS_PORT } from './config.js';

describeAppBin({ app: 'config-api', bin: 'config-api', envPrefix: 'FULCRUM_', service: { statusPort: STATUS_PORT } });
