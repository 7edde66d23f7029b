// A module whose infrastructureFactory is not a function.
export const infrastructureFactory = { applicationRecorder: 'memory' };
