import { describeAppBin } from '@fulcrum/runtime/testing';
import { STATUS_PORT } from './config.js';

describeAppBin({ app: 'health-checker', bin: 'health-checker', envPrefix: 'FULCRUM_', service: { statusPort: STATUS_PORT } });
