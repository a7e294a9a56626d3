export * from './routes.js';
export * from './recovery-code.js';
export * from './otpauth-uri.js';
export * from './migration-link.js';
export * from './api.js';
export * from './loopback-host.js';
export * from './isolate.js';
