// A module that PERSISTENCE names by mistake: it exports no infrastructureFactory.
export const infrastructure = 'memory';
export function makeStore(): void {}
