import { describeAppBin } from '@fulcrum/runtime/testing';
import { STATUS_PORT } from './config.js';

describeAppBin({ app: 'vrrp-agent', bin: 'vrrp-agent', envPrefix: 'FULCRUM_', service: { statusPort: STATUS_PORT } });
