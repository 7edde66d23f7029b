// A module whose infrastructureFactory returns something that is not an InfrastructureFactory.
export function infrastructureFactory(): unknown {
  return { applicationRecorder: () => undefined, close: async () => undefined };
}
