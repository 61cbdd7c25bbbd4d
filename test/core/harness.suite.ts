// Self-test of the portable harness: proves that a failing check fails and
// that the engine really runs the code (a harness that cannot fail is worthless).
import { CheckFailure, makeCheck, type PortableSuite } from '../harness/portable.js';

const suite: PortableSuite = (data) => [
  {
    name: 'data arrives from the host',
    run(t) {
      t.deepEqual(data, { greeting: 'héllo', bytes: [0, 255] });
    },
  },
  {
    name: 'a failing equal throws CheckFailure',
    run(t) {
      const inner = makeCheck();
      t.throws(() => inner.equal(1, 2), (e) => e instanceof CheckFailure);
      t.throws(() => inner.deepEqual(new Uint8Array([1]), new Uint8Array([2])), (e) => e instanceof CheckFailure);
      t.throws(() => inner.throws(() => 1, () => true), (e) => e instanceof CheckFailure);
    },
  },
  {
    name: 'async cases are awaited',
    async run(t) {
      const v = await Promise.resolve(42);
      t.equal(v, 42);
    },
  },
];
export default suite;
