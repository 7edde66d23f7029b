// The in-process memory of which span recorded which event, for links from processing to recording.
import { RECORDING_LINKS_PER_LOG, recordingLinks } from '../../src/observability/recording-links';

const span = (n: number) => ({ traceId: '0'.repeat(31) + (n % 10), spanId: n.toString(16).padStart(16, '0'), traceFlags: 1 });
const event = (id: string, version = 1) => ({ originatorId: id, originatorVersion: version });

describe('the spans remembered as recording events', () => {
  it('keeps one log per recorder object, so logs of the same name in two stores are never confused', () => {
    const [one, two] = [{}, {}];
    recordingLinks.remember(one, event('a'), span(1));
    expect(recordingLinks.recordedBy(one, event('a'))).toEqual(span(1));
    expect(recordingLinks.recordedBy(two, event('a'))).toBeUndefined();
    expect([recordingLinks.has(one), recordingLinks.has(two)]).toEqual([true, false]);
  });

  it('lets the first writer of an event keep it, and forgets a failed write only if it is the one remembered', () => {
    const log = {};
    const first = span(1);
    const refused = span(2);
    recordingLinks.remember(log, event('a', 2), first);
    recordingLinks.remember(log, event('a', 2), refused); // the later of two conflicting writes: it fails
    recordingLinks.forget(log, event('a', 2), refused);
    expect(recordingLinks.recordedBy(log, event('a', 2))).toBe(first);
    recordingLinks.forget(log, event('a', 2), first); // the first failed after all
    expect(recordingLinks.recordedBy(log, event('a', 2))).toBeUndefined();
    expect(recordingLinks.has(log)).toBe(false);
  });

  it(`keeps the latest ${RECORDING_LINKS_PER_LOG} events of a log, the oldest going first`, () => {
    const log = {};
    for (let n = 0; n <= RECORDING_LINKS_PER_LOG; n++) recordingLinks.remember(log, event(`e${n}`), span(n));
    expect(recordingLinks.recordedBy(log, event('e0'))).toBeUndefined();
    expect(recordingLinks.recordedBy(log, event('e1'))).toEqual(span(1));
    expect(recordingLinks.recordedBy(log, event(`e${RECORDING_LINKS_PER_LOG}`))).toEqual(span(RECORDING_LINKS_PER_LOG));
  });
});
