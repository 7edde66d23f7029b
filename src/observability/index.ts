// What users see of logging and telemetry. Nothing here names a type of @opentelemetry/api, an
// optional peer dependency: the declarations compile without it.
export { stderrLogger, type LogFn, type Logger, type LogLevel } from './logger';
export { TELEMETRY_ATTRIBUTES, TELEMETRY_METRICS, TELEMETRY_SCOPE } from './names';
export { RECORDING_LINKS_PER_LOG } from './recording-links';
