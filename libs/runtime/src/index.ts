export { openInfrastructure, type Infrastructure } from './infrastructure';
export { startProcess, main, type ProcessSpec, type RunningProcess } from './bootstrap';
export { waitFor, uniqueId } from './testing';
export { selfSignedCertificate, type TestCertificate } from './tls-testing';
