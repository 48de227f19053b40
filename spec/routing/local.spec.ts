import { LocalRouting } from '../../server/routing/local.ts';
import { describeRoutingConformance } from './conformance.ts';

describeRoutingConformance('in-process', {
  open: (_nodeId, local) => {
    const routing = new LocalRouting();
    routing.attach(local);
    return Promise.resolve(routing);
  },
  user: (label) => label,
});
