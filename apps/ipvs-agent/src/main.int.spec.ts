import { describeAppBin } from '@fulcrum/runtime/testing';
import { STATUS_PORT } from './config.js';

describeAppBin({ app: 'ipvs-agent', bin: 'ipvs-agent', envPrefix: 'FULCRUM_', service: { statusPort: STATUS_PORT }, badInput: true });
