import assert from 'node:assert/strict';
import { Admission } from '../../storage/admission.ts';

describe('admission bound', () => {
  it('admits up to the bound at once, then in call order as slots are left, and refuses beyond the queue', async () => {
    const admission = new Admission(2, 3);
    const order: number[] = [];
    const entries = [0, 1, 2, 3, 4, 5].map((i) => admission.enter().then((admitted) => (admitted ? order.push(i) : order.push(-i))));
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(order.slice(0, 2), [0, 1], 'two at once');
    assert.ok(order.includes(-5), 'the sixth finds the queue of three full and is refused');
    admission.leave();
    admission.leave();
    admission.leave();
    await Promise.all(entries);
    assert.deepEqual(order.filter((i) => i >= 0), [0, 1, 2, 3, 4], 'the queued ones in call order');
    assert.equal(admission.free, false, 'two slots are held again');
    admission.leave();
    admission.leave();
    assert.equal(admission.free, true);
  });
});
