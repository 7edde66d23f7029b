// A persistence module whose infrastructureFactory is only a property of its default export.
import { MemoryInfrastructureFactory } from '../../../../src';

export default { infrastructureFactory: () => new MemoryInfrastructureFactory() };
